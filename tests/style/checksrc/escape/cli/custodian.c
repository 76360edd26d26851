#include <stdio.h>

void f(const char *token)
{
	fprintf(stderr, "%s\n", token); /* checksrc: ok */
	fprintf(stderr, "hello\n"); /* checksrc: ok nothing to excuse here */
}
