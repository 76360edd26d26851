#include "store/store.h"
#include "store/sqlite/sqlite.h"
#include "http.h"
#include "support.h"
