#include "vault/vault.h"
#include "util/result.h"
