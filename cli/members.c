/*
 * cli/members.c — `custodian member find|show|erase`: a member found through
 * the blind index, read through the access door as the operator, or erased
 * (the one erasure, erasure.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "audit/audit.h"
#include "domain/erasure.h"
#include "domain/members.h"

/* The characters of a purpose's name: what was typed is repeated only if it is one. */
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"

enum { OPT_EMAIL = 'e', OPT_PHONE = 'p', OPT_PURPOSE = 'u', OPT_CASE = 'c', OPT_CERT = 'C' };

/* ---- find ------------------------------------------------------------------ */

static const struct cu_cli_option find_options[] = {
    {"email", "E", OPT_EMAIL, "the member's e-mail address"},
    {"phone", "P", OPT_PHONE, "the member's telephone number"},
    {0},
};

static int find(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *kind = NULL, *value = NULL;
	char id[CU_ID_LEN + 1];
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if ((c != OPT_EMAIL && c != OPT_PHONE) || kind) {
			cu_cli_error("expected --email E or --phone P "
			             "(usage: custodian member find --email E)");
			return CU_CLI_EXIT_USAGE;
		}
		kind = c == OPT_EMAIL ? "email" : "phone";
		value = a.value;
	}
	if (!kind) {
		cu_cli_error(
		    "expected --email E or --phone P (usage: custodian member find --email E)");
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_member_find(ctx, &cu_cli_operator, kind, value, id);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND) {
		cu_cli_error("no member with that %s", kind);
		return CU_CLI_EXIT_NO;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		/* The value is personal data: the message names the kind, not the value. */
		cu_cli_error("malformed %s", kind);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc) {
		cu_cli_error("find failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("%s\n", id);
	return 0;
}

/* ---- show ------------------------------------------------------------------ */

static const struct cu_cli_option show_options[] = {
    {"purpose", "P", OPT_PURPOSE, "the purpose of use the read is for (required)"},
    {"case", "C", OPT_CASE, "the case reference a purpose that needs one is read under"},
    {0},
};

static int show(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *id = NULL, *purpose = NULL, *case_ref = NULL, *key;
	cu_access_request req = {0};
	json_t *out, *fields, *withheld, *v;
	struct cu_cli_args a;
	cu_access_decision d;
	cu_record rec;
	char *text;
	int status, c;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_PURPOSE)
			purpose = a.value;
		else if (c == OPT_CASE)
			case_ref = a.value;
		else if (c == CU_CLI_ARG && !id)
			id = a.value; /* base64url ids may begin with '-' */
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!id || !purpose)
		return cu_cli_usage_error(cmd, "expected ID and --purpose P");
	/* The door refuses it too (and audits that); here it is refused before anything is written.
	 */
	if (case_ref && cu_case_ref_problem(case_ref)) {
		cu_cli_error(
		    "--case: a case reference is 1-%d bytes of one line of text, not blank, "
		    "without control characters (%s)",
		    CU_CASE_REF_MAX, cu_case_ref_problem(case_ref));
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	req.actor = &cu_cli_operator;
	req.purpose = purpose;
	req.member = id;
	req.case_ref = case_ref;
	cu_record_init(&rec);
	rc = cu_access_read(ctx, &req, &d, &rec);
	if (rc) {
		if (rc == CU_ERR_PURPOSE_UNKNOWN)
			cu_cli_error("unknown purpose '%s'",
			             strspn(purpose, NAME_CHARS) == strlen(purpose)
			                 ? purpose
			                 : CU_AUDIT_MALFORMED);
		else if (rc == CU_ERR_NOT_FOUND)
			cu_cli_error("no member '%s'",
			             cu_vault_id_well_formed(id) ? id : CU_AUDIT_MALFORMED);
		else
			cu_cli_error("refused: %s", cu_strerror(rc));
		cu_ctx_close(ctx);
		return CU_CLI_EXIT_NO;
	}
	out = json_object();
	fields = json_object();
	withheld = json_object();
	json_object_set_new(out, "member", json_string(id));
	json_object_set_new(out, "purpose", json_string(purpose));
	for (size_t i = 0; i < rec.n; i++)
		json_object_set_new(fields, ctx->policy->fields[rec.v[i].field].name,
		                    json_stringn(rec.v[i].value, rec.v[i].len));
	for (size_t i = 0; i < ctx->policy->nfields; i++)
		if (d.reason[i])
			json_object_set_new(withheld, ctx->policy->fields[i].name,
			                    json_string(d.reason[i]));
	json_object_set_new(out, "fields", fields);
	json_object_set_new(out, "withheld", withheld);
	text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
	status = text ? 0 : CU_CLI_EXIT_NO; /* text is not to be looked at once freed */
	if (text) {
		puts(text);
		sodium_memzero(text, strlen(text));
		free(text);
	}
	/* jansson copied the plaintext: overwrite it before it is freed. */
	json_object_foreach(fields, key, v) if (json_is_string(v))
	    sodium_memzero((char *)json_string_value(v), json_string_length(v));
	json_decref(out);
	cu_record_wipe(&rec);
	cu_ctx_close(ctx);
	return status;
}

/* ---- erase ------------------------------------------------------------------ */

static const struct cu_cli_option erase_options[] = {
    {"certificate", "FILE", OPT_CERT, "write the signed erasure certificate to FILE (new)"},
    {0},
};

static int write_certificate(const char *path, const char *cert)
{
	FILE *fp = fopen(path, "wx");
	int status = 0;

	if (!fp || fputs(cert, fp) == EOF || fputc('\n', fp) == EOF) {
		cu_cli_error("could not write the certificate to '%s' (it must not exist yet); the "
		             "member is erased",
		             path);
		status = CU_CLI_EXIT_NO;
	}
	if (fp && fclose(fp) && !status) {
		cu_cli_error("could not write the certificate to '%s'; the member is erased", path);
		status = CU_CLI_EXIT_NO;
	}
	return status;
}

static int erase(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *id = NULL, *certpath = NULL;
	struct cu_cli_args a;
	char *cert = NULL;
	cu_ctx *ctx;
	cu_result rc;
	int status = 0, c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_CERT) {
			certpath = a.value;
		} else if (c == CU_CLI_ARG && !id) {
			id = a.value; /* not "starts with '-'": base64url ids may */
		} else {
			cu_cli_error("expected one ID (usage: custodian member erase ID "
			             "[--certificate FILE])");
			return CU_CLI_EXIT_USAGE;
		}
	}
	if (!id) {
		cu_cli_error(
		    "expected one ID (usage: custodian member erase ID [--certificate FILE])");
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* The one erasure operation (erasure.h), as an erasure request would run it. */
	rc = cu_erasure_carry_out(ctx, &cu_cli_operator, id, NULL, cu_now_us(),
	                          certpath ? &cert : NULL);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED) {
		cu_cli_error("no member '%s'%s", id,
		             rc == CU_ERR_ERASED ? " (already erased)" : "");
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("erase failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("erased %s: its data key is destroyed and its fields can no longer be opened; "
	       "its open requests and complaints are closed (member_erased)\n",
	       id);
	if (certpath)
		status = write_certificate(certpath, cert);
	free(cert);
	return status;
}

static const struct cu_cli_command member_commands[] = {
    {.name = "find",
     .run = find,
     .usage = "custodian member find (--email E | --phone P)",
     .help = "Prints the id of the live member with that e-mail or telephone (through the\n"
             "blind index); exit 1 when there is none.  Audited as the operator.",
     .options = find_options},
    {.name = "show",
     .run = show,
     .usage = "custodian member show ID --purpose P [--case C]",
     .help = "Reads member ID through the access door as the operator, for purpose P:\n"
             "prints the fields P allows as JSON and names the withheld ones.  An unknown\n"
             "purpose is refused.  Every read is audited.",
     .options = show_options},
    {.name = "erase",
     .run = erase,
     .usage = "custodian member erase ID [--certificate FILE]",
     .help = "Erases member ID as an applied erasure request would: destroys its data\n"
             "key, sealed fields, blind indexes and password; closes its open requests\n"
             "and complaints (note member_erased); ends its sessions; drops its pending\n"
             "mail.  --certificate writes the signed erasure certificate to FILE (which\n"
             "must not exist).  Afterwards show and find fail.  Audited.",
     .options = erase_options},
    {0},
};

const struct cu_cli_command cu_cli_member = {
    .name = "member",
    .usage = "custodian [--data DIR] member (find|show|erase) ...",
    .help = "Find, read through the access door, or erase a member.",
    .sub = member_commands,
};
