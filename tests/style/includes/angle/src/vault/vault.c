#include <stdio.h>
#include <util/result.h>
