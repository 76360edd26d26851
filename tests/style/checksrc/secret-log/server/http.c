#include <stdio.h>

void f(const char *token, const struct cfg *cfg, char *err, size_t errlen, FILE *f)
{
	fprintf(stderr, "custodian: bad token %s\n", token);
	die_line("cannot open %s", cfg->master_key);
	snprintf(err, errlen, "wrong password '%s'", user.password);
	fputs(secret, srv->access_log);
	fprintf(stderr,
	        "custodian: %s\n",
	        row->token_hash);
}
