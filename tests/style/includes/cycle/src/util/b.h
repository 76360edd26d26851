#include "util/c.h"
