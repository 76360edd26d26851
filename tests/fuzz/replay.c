/*
 * tests/fuzz/replay.c — runs a fuzz target without libFuzzer: calls
 * LLVMFuzzerTestOneInput once on every file in the directories (or files)
 * named on the command line, in name order.  Files whose names begin with
 * "." or "README" are skipped.  A crash, a sanitizer report or a leak
 * fails the run; otherwise it prints how many inputs it ran and exits 0.
 *
 *   fuzz_policy tests/fuzz/corpus/policy tests/fuzz/regressions/policy
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* One byte more than needed, so an empty file is not malloc(0). */
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "replay: cannot read '%s'\n", path);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int skipped(const char *name)
{
	return name[0] == '.' || !strncmp(name, "README", 6);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	unsigned long ran = 0;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file or directory '%s'\n", argv[i]);
			failed = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= run_file(argv[i]) != 0;
			ran++;
			continue;
		}
		n = scandir(argv[i], &names, NULL, by_name);
		if (n < 0) {
			fprintf(stderr, "replay: cannot list '%s'\n", argv[i]);
			failed = 1;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];

			if (!skipped(names[k]->d_name)) {
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
					failed |= run_file(path) != 0;
					ran++;
				}
			}
			free(names[k]);
		}
		free(names);
	}
	printf("replayed %lu inputs\n", ran);
	return failed;
}
