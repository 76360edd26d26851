/*
 * fuzz_config — the configuration file, DIR/custodian.conf (cu_config_load:
 * inih and the settings table).  The input is written to a scratch file and
 * loaded over the defaults.
 */
#include <stdio.h>
#include <string.h>

#include "util/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[600], err[512];
	cu_config c;

	snprintf(path, sizeof(path), "%s/custodian.conf", fuzz_dir());
	fuzz_write_file(path, data, size);
	cu_config_defaults(&c);
	if (cu_config_load(path, &c, err, sizeof(err)) != CU_OK)
		return 0;
	/* A loaded configuration holds NUL-terminated strings. */
	if (!memchr(c.mode, '\0', sizeof(c.mode)) || !memchr(c.policy, '\0', sizeof(c.policy)) ||
	    !memchr(c.store, '\0', sizeof(c.store)) || !memchr(c.listen, '\0', sizeof(c.listen)))
		__builtin_trap();
	return 0;
}
