#include "domain/members.h"
