/*
 * test_file_read.c — the one bounded file reader: a file up to the bound is
 * read whole and NUL-terminated (NULs inside kept, the length told); one
 * byte more is refused (EFBIG), never cut; an absent file is ENOENT, a
 * directory a read error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file_read.h"
#include "support.h"

#define PATH_BYTES 4200

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_bounded(void **state)
{
	char *dir = cu_test_tmpdir(), path[PATH_BYTES], *buf;
	size_t len = 99;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, "0123456789", 10);
	buf = cu_file_read_bounded(path, 10, &len); /* exactly the bound */
	assert_non_null(buf);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	len = 99;
	errno = 0;
	assert_null(cu_file_read_bounded(path, 9, &len)); /* one byte over */
	assert_int_equal(errno, EFBIG);
	assert_int_equal(len, 99);
	buf = cu_file_read_bounded(path, 1000, NULL);
	assert_non_null(buf);
	free(buf);

	write_file(path, "a\0b", 3);
	buf = cu_file_read_bounded(path, 3, &len);
	assert_non_null(buf);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);

	write_file(path, "", 0);
	buf = cu_file_read_bounded(path, 0, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	snprintf(path, sizeof(path), "%s/absent", dir);
	errno = 0;
	assert_null(cu_file_read_bounded(path, 10, &len));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(cu_file_read_bounded(dir, 10, &len));
	assert_true(errno == EISDIR || errno == EIO);
	cu_test_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
