/*
 * cli/casework.c — the officer's side of members' requests (disclosure,
 * amendment, erasure) and complaints: `custodian requests list|show|decide|
 * file` and `custodian complaints list|show|respond|file`.
 *
 * Both are casework: a case is filed, has a due date, is listed (the
 * overdue first to see), shown with its sealed texts (audited) and
 * answered.  One table, struct casework, says what differs between the two
 * for listing and showing (the noun, the cases' list and view); the verbs
 * that answer a case (decide a request, respond to a complaint) and file
 * one on paper are each kind's own.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "domain/complaints.h"
#include "domain/requests.h"

enum {
	OPT_OVERDUE = 'o',
	OPT_ACTION = 'a',
	OPT_GROUND = 'g',
	OPT_REASONS = 'r',
	OPT_TYPE = 't',
	OPT_CHANGE = 'c',
	OPT_TEXT = 'x',
	OPT_CLOSE = 'C',
	OPT_ABOUT = 'b',
};

/* What differs between requests and complaints for list and show. */
struct casework {
	const char *group;  /* "requests": the command group */
	const char *noun;   /* "request": one case */
	const char *header; /* the list's header line */
	/* Prints the open cases (only the overdue ones at now_us). */
	cu_result (*list)(cu_ctx *ctx, bool overdue, int64_t now_us);
	/* One case as the officer sees it, as JSON (*out a new reference); audited. */
	cu_result (*show)(cu_ctx *ctx, const char *id, int64_t now_us, json_t **out);
};

/*
 * A kind's list and show for the table below: the same steps over the
 * kind's own row and view types (cu_<kind>_list, cu_<kind>_view_init,
 * cu_<kind>_get, cu_<kind>_view_json, cu_<kind>_view_wipe), written once.
 */
#define CASE_LIST_AND_SHOW(kind)                                                                   \
	static cu_result kind##_list(cu_ctx *ctx, bool overdue, int64_t now_us)                    \
	{                                                                                          \
		return cu_##kind##_list(ctx->store, &cu_cli_operator, overdue, now_us,             \
		                        print_##kind##_row, &now_us);                              \
	}                                                                                          \
	static cu_result kind##_show(cu_ctx *ctx, const char *id, int64_t now_us, json_t **out)    \
	{                                                                                          \
		cu_##kind##_view v;                                                                \
		cu_result rc;                                                                      \
                                                                                                   \
		cu_##kind##_view_init(&v);                                                         \
		rc = cu_##kind##_get(ctx, &cu_cli_operator, id, &v);                               \
		if (!rc)                                                                           \
			*out = cu_##kind##_view_json(&v, now_us);                                  \
		cu_##kind##_view_wipe(&v);                                                         \
		return rc;                                                                         \
	}

/* ---- requests: the table's entries --------------------------------------------- */

static int print_request_row(void *ud, const cu_request_row *row)
{
	const int64_t *now = ud;
	char due[CU_CLI_TIME_MAX];

	printf("%s\t%s\t%s\t%s\t%s\t%ld\n", row->id, row->member, row->type, row->state,
	       cu_cli_format_time(row->due_us, due, sizeof(due)),
	       cu_case_days_left(row->due_us, *now));
	return 0;
}

CASE_LIST_AND_SHOW(request)

static const struct casework requests = {
    .group = "requests",
    .noun = "request",
    .header = "ID\tMEMBER\tTYPE\tSTATE\tDUE\tDAYS_LEFT",
    .list = request_list,
    .show = request_show,
};

/* ---- complaints: the table's entries ------------------------------------------- */

static int print_complaint_row(void *ud, const cu_complaint_row *row)
{
	const int64_t *now = ud;
	char due[CU_CLI_TIME_MAX];

	printf("%s\t%s\t%s\t%s\t%s\t%s\t%ld\n", row->id, row->member, row->about, row->state,
	       row->assigned[0] ? row->assigned : "-",
	       cu_cli_format_time(row->due_us, due, sizeof(due)),
	       cu_case_days_left(row->due_us, *now));
	return 0;
}

CASE_LIST_AND_SHOW(complaint)

static const struct casework complaints = {
    .group = "complaints",
    .noun = "complaint",
    .header = "ID\tMEMBER\tABOUT\tSTATE\tASSIGNED\tDUE\tDAYS_LEFT",
    .list = complaint_list,
    .show = complaint_show,
};

/* ---- list and show, for both ----------------------------------------------------- */

static const struct cu_cli_option list_options[] = {
    {"overdue", NULL, OPT_OVERDUE, "only those past their due date"},
    {0},
};

static int list(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const struct casework *k = cmd->data;
	int64_t now = cu_now_us();
	bool overdue = false;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_OVERDUE)
			return cu_cli_bad_argument(cmd, a.value);
		overdue = true;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("%s\n", k->header);
	rc = k->list(ctx, overdue, now);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("%s list failed: %s", k->group, cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static int show(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const struct casework *k = cmd->data;
	const char *id = NULL;
	struct cu_cli_args a;
	json_t *j = NULL;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != CU_CLI_ARG || id)
			return cu_cli_usage_error(cmd, "expected one ID");
		id = a.value;
	}
	if (!id)
		return cu_cli_usage_error(cmd, "expected one ID");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = k->show(ctx, id, cu_now_us(), &j);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("no %s '%s'", k->noun, id);
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("%s show failed: %s", k->group, cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return cu_cli_print_json_wiped(j);
}

/* ---- requests: decide and file --------------------------------------------------- */

/* Whether a decision's input errors are the operator's (ground, action, reasons). */
static bool decision_input_error(const cu_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strcmp(errs->e[i].field, "ground") && strcmp(errs->e[i].field, "action") &&
		    strcmp(errs->e[i].field, "reasons"))
			return false;
	return errs->n > 0;
}

static const struct cu_cli_option decide_options[] = {
    {"action", "A", OPT_ACTION, "investigate, apply, reject, refuse or lift (required)"},
    {"ground", "G", OPT_GROUND, "a refusal's ground (refuse only, required there)"},
    {"reasons", "TEXT", OPT_REASONS, "why (sealed; required to reject or refuse)"},
    {0},
};

static int decide(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char *certificate = NULL, words[CU_CLI_WORDS_MAX];
	const char *id = NULL, *action_arg = NULL;
	cu_request_decision dec = {0};
	cu_request_row row = {0};
	struct cu_cli_args a;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_ACTION)
			action_arg = a.value;
		else if (c == OPT_GROUND)
			dec.ground = a.value;
		else if (c == OPT_REASONS)
			dec.reasons = a.value;
		else if (c == CU_CLI_ARG && !id)
			id = a.value; /* base64url ids may begin with '-' */
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!id || !action_arg)
		return cu_cli_usage_error(cmd, "expected ID and --action A");
	if (cu_request_action_parse(action_arg, &dec.action) != CU_OK) {
		cu_cli_error(
		    "unknown --action '%s' (one of investigate, apply, reject, refuse, lift)",
		    action_arg);
		return CU_CLI_EXIT_USAGE;
	}
	if (dec.action == CU_REQUEST_REFUSE && !dec.ground) {
		cu_cli_error("a refusal needs --ground (one of %s, %s, %s)",
		             cu_refusal_grounds[0].id, cu_refusal_grounds[1].id,
		             cu_refusal_grounds[2].id);
		return CU_CLI_EXIT_USAGE;
	}
	if (dec.ground && dec.action != CU_REQUEST_REFUSE)
		return cu_cli_usage_error(cmd, "--ground is for --action refuse only");
	if (dec.ground && !cu_refusal_ground_find(dec.ground)) {
		cu_cli_error("unknown --ground '%s' (one of %s, %s, %s)", dec.ground,
		             cu_refusal_grounds[0].id, cu_refusal_grounds[1].id,
		             cu_refusal_grounds[2].id);
		return CU_CLI_EXIT_USAGE;
	}
	if ((dec.action == CU_REQUEST_REJECT || dec.action == CU_REQUEST_REFUSE) &&
	    (!dec.reasons || !*dec.reasons))
		return cu_cli_usage_error(cmd, "a %s needs --reasons TEXT",
		                          dec.action == CU_REQUEST_REJECT ? "rejection"
		                                                          : "refusal");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_request_decide(ctx, &cu_cli_operator, id, &dec, cu_now_us(), &row, &certificate,
	                       &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_errors_words(&errs, "", words, sizeof(words));
		cu_cli_error("decision refused: %s", words);
		cu_request_row_release(&row);
		return decision_input_error(&errs) ? CU_CLI_EXIT_USAGE : CU_CLI_EXIT_NO;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			cu_cli_error("no request '%s'", id);
		else if (rc == CU_ERR_CONFLICT)
			cu_cli_error("request '%s' cannot be decided so: it is already decided (or "
			             "under investigation), or the amendment's e-mail is now taken",
			             id);
		else
			cu_cli_error("decision failed: %s", cu_strerror(rc));
		free(certificate);
		cu_request_row_release(&row);
		return CU_CLI_EXIT_NO;
	}
	printf("request %s (%s): %s\n", row.id, row.type, row.state);
	if (certificate) {
		printf("erasure certificate follows (kept with the request: 'custodian requests "
		       "show %s'; check it with 'custodian receipt verify FILE'):\n%s\n",
		       row.id, certificate);
		free(certificate);
	}
	cu_request_row_release(&row);
	return 0;
}

static const struct cu_cli_option request_file_options[] = {
    {"type", "T", OPT_TYPE, "disclosure, amendment or erasure (required)"},
    {"change", "FIELD=VALUE", OPT_CHANGE, "an amendment's change, one each (empty VALUE: delete)"},
    {"text", "TEXT", OPT_TEXT, "why (an amendment's, required) or a note"},
    {0},
};

static int request_file(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char *copies[CU_CLI_LIST_MAX], token[CU_REQUEST_TOKEN_LEN + 1], words[CU_CLI_WORDS_MAX];
	const char *member = NULL, *type_arg = NULL;
	cu_kv changes[CU_CLI_LIST_MAX];
	cu_request_input in = {0};
	cu_request_row row = {0};
	struct cu_cli_args a;
	int status = 0, c;
	size_t nc = 0;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_TYPE) {
			type_arg = a.value;
		} else if (c == OPT_TEXT) {
			in.text = a.value;
		} else if (c == OPT_CHANGE && nc < CU_CLI_LIST_MAX) {
			char *eq, *copy = strdup(a.value);

			if (!copy || !(eq = strchr(copy, '=')) || eq == copy) {
				free(copy);
				status = cu_cli_usage_error(cmd, "--change expects FIELD=VALUE");
				goto out;
			}
			*eq = '\0';
			copies[nc] = copy;
			changes[nc].name = copy;
			changes[nc].value = eq + 1;
			nc++;
		} else if (c == CU_CLI_ARG && !member) {
			member = a.value;
		} else {
			status = cu_cli_bad_argument(cmd, c == OPT_CHANGE ? "--change" : a.value);
			goto out;
		}
	}
	if (!member || !type_arg) {
		status = cu_cli_usage_error(cmd, "expected MEMBER and --type T");
		goto out;
	}
	if (cu_request_type_parse(type_arg, &in.type) != CU_OK) {
		cu_cli_error("unknown --type '%s' (one of disclosure, amendment, erasure)",
		             type_arg);
		status = CU_CLI_EXIT_USAGE;
		goto out;
	}
	in.changes = changes;
	in.nchanges = nc;
	ctx = cu_cli_open();
	if (!ctx) {
		status = CU_CLI_EXIT_NO;
		goto out;
	}
	cu_errors_init(&errs);
	rc = cu_request_file(ctx, &cu_cli_operator, member, &in, cu_now_us(), &row, token, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_errors_words(&errs, "", words, sizeof(words));
		cu_cli_error("request refused: %s", words);
		status = CU_CLI_EXIT_USAGE;
	} else if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		status = CU_CLI_EXIT_NO;
	} else if (rc) {
		cu_cli_error("request file failed: %s", cu_strerror(rc));
		status = CU_CLI_EXIT_NO;
	} else {
		char due[CU_CLI_TIME_MAX];

		printf("filed request %s (%s) for member %s, due %s\n", row.id, row.type,
		       row.member, cu_cli_format_time(row.due_us, due, sizeof(due)));
		if (token[0])
			printf("certificate token (give it to the member; shown only now): %s\n",
			       token);
	}
	sodium_memzero(token, sizeof(token));
	cu_request_row_release(&row);
out:
	for (size_t k = 0; k < nc; k++) {
		sodium_memzero(copies[k], strlen(copies[k]) + 1 + strlen(changes[k].value));
		free(copies[k]);
	}
	return status;
}

/* ---- complaints: respond and file --------------------------------------------------- */

static const struct cu_cli_option respond_options[] = {
    {"text", "TEXT", OPT_TEXT, "the response, 1..4000 bytes (sealed)"},
    {"close", NULL, OPT_CLOSE, "close the complaint with this response (or the last one)"},
    {0},
};

static int respond(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *id = NULL, *text = NULL;
	cu_complaint_row row = {0};
	char words[CU_CLI_WORDS_MAX];
	struct cu_cli_args a;
	bool close = false;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_TEXT)
			text = a.value;
		else if (c == OPT_CLOSE)
			close = true;
		else if (c == CU_CLI_ARG && !id)
			id = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!id || (!text && !close))
		return cu_cli_usage_error(cmd, "expected ID and --text TEXT");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_complaint_respond(ctx, &cu_cli_operator, id, text, close, cu_now_us(), &row, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD && !text && errs.n == 1 &&
	    !strcmp(errs.e[0].reason, "response_required")) {
		cu_cli_error("complaint '%s' has no response yet: close it with --text TEXT", id);
		cu_complaint_row_release(&row);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_errors_words(&errs, "", words, sizeof(words));
		cu_cli_error("response refused: %s", words);
		cu_complaint_row_release(&row);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			cu_cli_error("no complaint '%s'", id);
		else if (rc == CU_ERR_CONFLICT)
			cu_cli_error("complaint '%s' is closed", id);
		else if (rc == CU_ERR_ERASED)
			cu_cli_error(
			    "complaint '%s': its member was erased, nobody is left to answer", id);
		else
			cu_cli_error("response failed: %s", cu_strerror(rc));
		cu_complaint_row_release(&row);
		return CU_CLI_EXIT_NO;
	}
	printf("complaint %s: %s\n", row.id, row.state);
	cu_complaint_row_release(&row);
	return 0;
}

static const struct cu_cli_option complaint_file_options[] = {
    {"about", "A", OPT_ABOUT, "use, provision, disclosure, amendment or other (required)"},
    {"text", "TEXT", OPT_TEXT, "the complaint in the member's words (required)"},
    {0},
};

static int complaint_file(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *member = NULL, *about = NULL, *text = NULL;
	cu_complaint_row row = {0};
	char words[CU_CLI_WORDS_MAX];
	struct cu_cli_args a;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_ABOUT)
			about = a.value;
		else if (c == OPT_TEXT)
			text = a.value;
		else if (c == CU_CLI_ARG && !member)
			member = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!member || !about || !text)
		return cu_cli_usage_error(cmd, "expected MEMBER, --about A and --text TEXT");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_errors_init(&errs);
	rc =
	    cu_complaint_file(ctx, &cu_cli_operator, member, about, text, cu_now_us(), &row, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_errors_words(&errs, "", words, sizeof(words));
		cu_cli_error("complaint refused: %s", words);
		cu_complaint_row_release(&row);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT)
			cu_cli_error("no member '%s'%s", member,
			             rc == CU_ERR_ERASED ? " (erased)" : "");
		else
			cu_cli_error("complaint file failed: %s", cu_strerror(rc));
		cu_complaint_row_release(&row);
		return CU_CLI_EXIT_NO;
	}
	printf("filed complaint %s (%s) for member %s\n", row.id, row.about, row.member);
	cu_complaint_row_release(&row);
	return 0;
}

/* ---- the commands ------------------------------------------------------------------ */

static const struct cu_cli_command requests_commands[] = {
    {.name = "list",
     .run = list,
     .usage = "custodian requests list [--overdue]",
     .help = "Lists the open requests (received, investigating), earliest target first,\n"
             "tab-separated: id, member, type, state, due (the \"without delay\" target),\n"
             "days left (negative: overdue).  --overdue: only those past their target.\n"
             "Metadata only: no member's words, no officer's reasons.",
     .options = list_options,
     .data = &requests},
    {.name = "show",
     .run = show,
     .usage = "custodian requests show ID",
     .help = "Prints request ID as the officer sees it, as JSON: its dates, state, the\n"
             "member's details, its history with each step's reasons and, for an applied\n"
             "erasure, the signed certificate.  Opening the texts is audited\n"
             "(read_request).  Exit 1 when there is no such request.",
     .data = &requests},
    {.name = "decide",
     .run = decide,
     .usage = "custodian requests decide ID --action investigate|apply|reject|refuse|lift "
              "[--ground G] --reasons TEXT",
     .help = "Decides request ID as the operator: investigate (mark it under\n"
             "investigation), apply (disclosure: the member is told it is ready; amendment:\n"
             "the changes are made; erasure: the member is erased and a signed erasure\n"
             "certificate issued), reject, or refuse (a disclosure only, on one ground:\n"
             "harm_to_life_or_rights, business_interference or breach_of_law; the first and\n"
             "the last suspend the member's self-service export while they stand), or lift\n"
             "(ends such a refusal: the export works again).  Reject and refuse need\n"
             "--reasons (sealed, shown to the member in their account).\n"
             "Prints the new state; for an applied erasure the certificate JSON follows\n"
             "(also in 'requests show ID').  Exit 1 when the request is already decided.\n"
             "Audited.",
     .options = decide_options},
    {.name = "file",
     .run = request_file,
     .usage = "custodian requests file MEMBER --type disclosure|amendment|erasure "
              "[--change FIELD=VALUE ...] [--text TEXT]",
     .help = "Records a request MEMBER made on paper.  An amendment names each change\n"
             "(--change FIELD=VALUE; an empty VALUE deletes an optional field) and why\n"
             "(--text, required); for the others --text is an optional note.  An erasure\n"
             "prints its certificate token once: give it to the member.  Audited.",
     .options = request_file_options},
    {0},
};

static const struct cu_cli_command complaints_commands[] = {
    {.name = "list",
     .run = list,
     .usage = "custodian complaints list [--overdue]",
     .help = "Lists the open complaints by due date, tab-separated: id, member, about,\n"
             "state, assigned officer (or -), due, days left.  --overdue: only those past\n"
             "their due date.  Metadata only.",
     .options = list_options,
     .data = &complaints},
    {.name = "show",
     .run = show,
     .usage = "custodian complaints show ID",
     .help = "Prints complaint ID with its text and every response, as JSON.  Audited\n"
             "(read_complaint).",
     .data = &complaints},
    {.name = "respond",
     .run = respond,
     .usage = "custodian complaints respond ID --text TEXT [--close]",
     .help = "Answers complaint ID (1..4000 bytes, sealed; the member reads it in their\n"
             "account and is notified).  --close closes it with this response; --close\n"
             "without --text closes a complaint already answered.  Exit 1 when it is\n"
             "closed.  Audited.",
     .options = respond_options},
    {.name = "file",
     .run = complaint_file,
     .usage = "custodian complaints file MEMBER --about A --text TEXT",
     .help = "Records a complaint MEMBER made on paper, about one of use, provision,\n"
             "disclosure, amendment or other.  Audited.",
     .options = complaint_file_options},
    {0},
};

const struct cu_cli_command cu_cli_requests = {
    .name = "requests",
    .usage = "custodian [--data DIR] requests (list|show|decide|file) ...",
    .help = "The officer's side of members' disclosure, amendment and erasure requests.",
    .sub = requests_commands,
};

const struct cu_cli_command cu_cli_complaints = {
    .name = "complaints",
    .usage = "custodian [--data DIR] complaints (list|show|respond|file) ...",
    .help = "The officer's side of members' complaints.",
    .sub = complaints_commands,
};
