#include <stdio.h>

#define NOTE_BYTES 160 /* "note <id> by <actor>" */

struct row {
	char id[23];
	char role[16], actor[128];
	unsigned char digest[2 * 32 + 1];
};

static void f(const char *out[16], char names[8][48])
{
	char reason[NOTE_BYTES], day[CU_DATE_LEN + 1];
	char path[4096], url[0x1000];
	char *argv[16];
	char tmp[CU_ID_LEN + 32];
	char line[600]; /* checksrc: ok sized for the message below, reviewed */
	int n = names[1][20] + out[10][0];

	snprintf(reason, sizeof(reason), "%d", n);
	(void)day, (void)path, (void)url, (void)argv, (void)tmp, (void)line;
}
