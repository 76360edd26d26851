#include <stdio.h>
#include <string.h>
#include <stdlib.h>

void f(char *out, const char *in, char *line)
{
	strcpy(out, in);
	strcat(out, in);
	sprintf(out, "%s", in);
	int n = atoi(in);
	char *w = strtok(line, " ");
	(void)n; (void)w;
}
