/* Not in src/, server/ or cli/: a test's fixtures may use numbers. */
static char fixture[4096];
