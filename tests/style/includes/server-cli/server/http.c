#include "../cli/commands.h"
