/* Nothing here is banned: strcpy(a, b) in a comment, "sprintf(" in a string. */
#include <stdio.h>
#include <stdlib.h>

#define HASH_HEX_BYTES 65 /* a 32-byte hash in hex, and its NUL */
#define LAST(a)        a[16]

struct row { char id[8]; char token_hash[HASH_HEX_BYTES]; unsigned key_id; };

/* Sizes with a name in them, one-digit sizes, and indexes are not bare sizes. */
static int sizes(const char *v[], int n)
{
	char to[CU_ID_LEN + 32], pair[2][HASH_HEX_BYTES];
	int m = n * v[10][0], k = sizeof(char[16]);

	(void)to, (void)pair;
	return m + v[n][12] + k;
}

static int parse(const char *s, char *err, size_t errlen, const struct row *t, const char *key)
{
	char *end;
	long n = strtol(s, &end, 10);
	const char *msg = "strtok";

	snprintf(err, errlen, "token %s (key %u), %zu bytes", t->id, t->key_id, sizeof(key));
	fprintf(stderr, "custodian: %s: %s\n", msg, t->id);
	printf("secret: %s\n", key); /* stdout is the answer, not a log */
	fprintf(stdout, "%s\n", t->token_hash);
	fprintf(stderr, "custodian: %s\n", cu_redact(key));
	fprintf(stderr, "%s\n",
	        t->token_hash); /* checksrc: ok a reviewed exception, reason given */
	return n > 0 && *end == '\0' ? 0 : -1;
}
