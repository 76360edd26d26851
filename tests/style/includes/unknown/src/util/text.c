#include "util/nothere.h"
