#include "domain/members.h"
#include "store/store.h"
#include <stdio.h>
