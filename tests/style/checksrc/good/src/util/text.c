/* Nothing here is banned: strcpy(a, b) in a comment, "sprintf(" in a string. */
#include <stdio.h>
#include <stdlib.h>

struct row { char id[8]; char token_hash[65]; unsigned key_id; };

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
