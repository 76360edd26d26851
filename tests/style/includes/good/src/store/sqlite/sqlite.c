#include "store/store.h"
#include "sqlite.h"
