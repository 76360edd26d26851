#include "domain/members.h"
#include "http.h"
