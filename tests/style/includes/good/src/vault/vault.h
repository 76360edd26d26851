#include "util/result.h"
