
#include "store/store.h"
