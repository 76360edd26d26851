/* The store's rows. */
#pragma once
#include "audit/audit.h"
