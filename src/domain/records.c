/*
 * src/domain/records.c — the record of processing (records.h): built as JSON
 * from the policy and the registries, written as Markdown from that JSON.
 */
#include "domain/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "util/date.h"

/* Hex digits of the policy digest, and the NUL. */
#define DIGEST_HEX_BYTES (2 * CU_POLICY_DIGESTBYTES + 1)

/* What is kept per member besides the policy's fields, and where it is said. */
static const struct {
	const char *name, *what;
} other_data[] = {
    {"diaries", "members' own diary entries, each sealed under the member's data key; read "
                "only by a purpose marked for diaries, with a case (purpose 8)"},
    {"request_texts", "the details of disclosure, amendment and erasure requests and officers' "
                      "reasons, sealed under the member's data key"},
    {"complaint_texts", "the texts of complaints and their responses, sealed under the "
                        "member's data key"},
    {"consents", "each member's choices (purposes outside the published ones, third parties) "
                 "with signed receipts; no personal value"},
    {"provisions", "a record of each provision to a third party: which member, which fields "
                   "(names only), to whom, on what basis; kept at least three years"},
    {"audit_trail", "one hash-chained entry per read, change and refusal: who, role, action, "
                    "member id, purpose, field names; never a value"},
};

#define RETENTION_TEXT_MAX 128 /* "N days after ...; M days after ..." */

/* The rules the code applies, whatever the policy file says. */
static const char *const retention_rules[] = {
    "Members' fields are kept until the member is erased (an erasure request applied by an "
    "officer, 'member erase', or the inactive-account rule) or until the policy's retention "
    "periods for them pass ('custodian retention plan' lists what goes next; the server's "
    "retention worker deletes it, audited): erasure destroys the member's wrapped data key "
    "and its leaf of the key tree, so every sealed value of theirs can no longer be opened.",
    "A field a new policy version drops is deleted from every member's record after the "
    "policy's dropped_field_grace_days.",
    "Records of provisions to third parties are kept at least three years; 'provisions purge' "
    "refuses a younger cut-off.",
    "The audit trail is kept whole (it is a hash chain: no entry is ever deleted); it holds "
    "member ids and field names, never a value.",
};

/*
 * The safety measures the code applies.  Each says only what is true of this
 * code (docs/keys.md, docs/architecture.md, docs/auth.md, docs/operations.md).
 */
static const struct {
	const char *id, *measure, *detail;
} measures[] = {
    {"encryption_at_rest", "Every personal field encrypted at rest, per member and per field",
     "Each field is sealed separately with XChaCha20-Poly1305 (IETF, random 192-bit nonce) "
     "under a random 256-bit data key of its member, with the member id and field name as "
     "associated data. Each data key is wrapped (XChaCha20-Poly1305) under its member's leaf "
     "of a puncturable key tree (GGM, HChaCha20), kept outside the database in DIR/keyring, "
     "sealed under the master key; the row records the tree's id. Master keys are never "
     "stored in the database: DIR/master.key (mode 0600) or $CUSTODIAN_MASTER_KEY; of each, "
     "only the subkeys derived from it are kept in memory, in locked pages. Diaries and "
     "request and complaint texts are sealed the same way. Keys rotate online "
     "('custodian keys rotate')."},
    {"blind_indexes", "Look-ups without plaintext",
     "E-mail addresses and telephone numbers are found by a keyed BLAKE2b-256 blind index "
     "of the normalised value, under a subkey of its own; no plaintext index exists."},
    {"passwords", "Member passwords hashed",
     "Argon2id with a random salt per hash; the cost is a setting."},
    {"credentials", "Tokens and sessions kept as hashes",
     "Bearer tokens and session secrets are 256-bit random values; only their BLAKE2b-256 "
     "hashes are stored. Tokens expire and can be revoked."},
    {"access_control", "Access by purpose, through one door",
     "Every read of a member's data by anyone but that member names a purpose of the policy; "
     "the role must be granted it, a subcontractor must act under a contract in force and "
     "within its purposes and fields, a use outside the published purposes needs the "
     "member's consent (or an officer's legal exception, reviewed). Only the fields the "
     "purpose grants are decrypted; the rest are withheld unopened."},
    {"audit_trail", "Every access audited, tamper-evident",
     "Each decision (allow, partial, deny), change and erasure is written to an append-only "
     "BLAKE2b-256 hash chain in the same transaction, before anything is opened; if it cannot "
     "be written the read fails. Signed checkpoints of the chain's head (Ed25519, key derived "
     "from the master key) are kept in the database, in DIR/audit.checkpoint and wherever "
     "'audit checkpoint' is shipped; 'audit verify' checks the chain against them."},
    {"erasure", "Erasure by crypto-shredding",
     "Erasing a member deletes the wrapped data key, the sealed fields, the blind indexes and "
     "the password hash; SQLite's secure_delete overwrites the freed cells and the write-ahead "
     "log is truncated; the member's leaf of every key tree is destroyed, so copies and "
     "backups taken before the erasure no longer open the member with the live keys. An "
     "erasure certificate is signed."},
    {"plaintext_in_memory", "Plaintext only in memory, wiped",
     "Decrypted values live in memory for one request or command and are wiped "
     "(sodium_memzero); no personal value is written to logs, error messages, metrics or "
     "URLs."},
    {"durability", "Durable, consistent writes",
     "SQLite in WAL mode with synchronous=FULL and foreign keys on: a change and its audit "
     "entry commit together, and an answer is given only once the commit is durable."},
    {"transport", "Transport encryption at a front proxy",
     "The HTTP server speaks plain HTTP and does not terminate TLS: it is to listen on a "
     "loopback address behind a TLS proxy (docs/operations.md). Notification e-mail uses "
     "STARTTLS when the SMTP server offers it, or TLS from the start with smtps://."},
};

json_t *cu_records_retention(const cu_policy *p, const char *kind, const char *name)
{
	char text[RETENTION_TEXT_MAX];
	int days = CU_RETENTION_NONE, withdrawal = CU_RETENTION_NONE;

	if (!strcmp(kind, "purpose")) {
		const cu_policy_purpose *pu = cu_policy_purpose_find(p, name);

		if (pu) {
			days = pu->retention_days;
			withdrawal = pu->withdrawal_days;
		}
	} else {
		const cu_policy_field *f = cu_policy_field_find(p, name);

		if (f)
			days = f->retention_days;
	}
	if (days == CU_RETENTION_NONE && withdrawal == CU_RETENTION_NONE)
		return json_string(CU_RECORDS_NOT_SET);
	if (days != CU_RETENTION_NONE && withdrawal != CU_RETENTION_NONE)
		snprintf(text, sizeof(text),
		         "%d days after the member's last activity; %d days after consent is "
		         "withdrawn",
		         days, withdrawal);
	else if (days != CU_RETENTION_NONE)
		snprintf(text, sizeof(text), "%d days after the member's last activity", days);
	else
		snprintf(text, sizeof(text), "%d days after consent is withdrawn", withdrawal);
	return json_string(text);
}

/* ---- building ------------------------------------------------------------ */

/* Adds v to an array or object; frees v and notes the failure if that fails. */
static void add(json_t *to, const char *key, json_t *v, int *bad)
{
	int rc = !v ? -1 : key ? json_object_set_new(to, key, v) : json_array_append_new(to, v);

	if (rc)
		*bad = 1;
}

static json_t *field_names(const cu_policy *p, cu_fieldset set)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < p->nfields; i++)
		if ((set >> i) & 1)
			json_array_append_new(a, json_string(p->fields[i].name));
	return a;
}

/* "a,b,c" (or one item per line, with sep '\n') as an array of strings, empty items skipped. */
static json_t *split(const char *text, char sep)
{
	json_t *a = json_array();
	const char *s = text;

	while (a && s && *s) {
		const char *e = strchr(s, sep);
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s = e ? e + 1 : NULL;
	}
	return a;
}

static json_t *day(int64_t us)
{
	char d[CU_DATE_LEN + 1];

	cu_date_format(us, d);
	return json_string(d);
}

static json_t *purposes_of(const cu_policy *p)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; a && i < p->npurposes; i++) {
		const cu_policy_purpose *pu = &p->purposes[i];
		json_t *o = json_object(), *roles = json_array();

		for (int r = 0; roles && r < CU_ROLE_COUNT_; r++)
			if (cu_policy_purpose_allows_role(pu, (cu_role)r))
				json_array_append_new(roles, json_string(cu_role_name((cu_role)r)));
		add(a, NULL, o, &bad);
		if (!o)
			break;
		add(o, "id", json_string(pu->id), &bad);
		add(o, "number", json_integer(pu->number), &bad);
		add(o, "text", json_string(pu->text ? pu->text : ""), &bad);
		add(o, "roles", roles, &bad);
		add(o, "fields", field_names(p, pu->fields), &bad);
		add(o, "requires_case", json_boolean(pu->requires_case), &bad);
		add(o, "aggregate_only", json_boolean(pu->aggregate_only), &bad);
		add(o, "consent_required", json_boolean(pu->consent_required), &bad);
		add(o, "diaries", json_boolean(pu->diaries), &bad);
		add(o, "retention", cu_records_retention(p, "purpose", pu->id), &bad);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static const char *field_category(const cu_policy_field *f)
{
	return f->identifier ? "identifier" : f->survey ? "survey" : "other";
}

static json_t *fields_of(const cu_policy *p)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; a && i < p->nfields; i++) {
		const cu_policy_field *f = &p->fields[i];
		json_t *o = json_object();

		add(a, NULL, o, &bad);
		if (!o)
			break;
		add(o, "name", json_string(f->name), &bad);
		add(o, "label", json_string(f->label ? f->label : f->name), &bad);
		add(o, "kind", json_string(cu_field_kind_name(f->kind)), &bad);
		add(o, "category", json_string(field_category(f)), &bad);
		add(o, "required", json_boolean(f->required), &bad);
		add(o, "retention", cu_records_retention(p, "field", f->name), &bad);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *other_data_of(void)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; a && i < sizeof(other_data) / sizeof(other_data[0]); i++)
		add(a, NULL,
		    json_pack("{s:s, s:s}", "name", other_data[i].name, "what", other_data[i].what),
		    &bad);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *roles_of(const cu_policy *p)
{
	json_t *a = json_array();
	int bad = 0;

	for (int r = 0; a && r < CU_ROLE_COUNT_; r++) {
		json_t *ps = json_array();
		const char *note = "";

		for (size_t i = 0; ps && i < p->npurposes; i++)
			if (cu_policy_purpose_allows_role(&p->purposes[i], (cu_role)r))
				json_array_append_new(ps, json_string(p->purposes[i].id));
		/* The door's own rules for the two roles the policy file does not grant. */
		if (r == CU_ROLE_MEMBER)
			note = "a member reads every field of their own record (purpose \"self\")";
		else if (r == CU_ROLE_OPERATOR)
			note = "whoever runs the custodian command on the host; the door grants it "
			       "every purpose and audits each use";
		else if (r == CU_ROLE_SUBCONTRACTOR)
			note = "only under a contract in force, within its purposes and fields";
		add(a, NULL,
		    json_pack("{s:s, s:o, s:s}", "name", cu_role_name((cu_role)r), "purposes", ps,
		              "note", note),
		    &bad);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *exceptions_of(const cu_policy *p)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; a && i < p->nexceptions; i++)
		add(a, NULL,
		    json_pack("{s:s, s:s}", "id", p->exceptions[i].id, "text",
		              p->exceptions[i].text ? p->exceptions[i].text : ""),
		    &bad);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

struct list_acc {
	json_t *a;
	int bad;
};

static int on_third_party(void *ud, const cu_third_party_row *row)
{
	struct list_acc *acc = ud;

	add(acc->a, NULL,
	    json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", row->id, "name", row->name, "contact",
	              row->contact, "purpose", row->purpose, "fields", split(row->fields_text, ','),
	              "registered", day(row->created_us)),
	    &acc->bad);
	return acc->bad;
}

static int on_subcontractor(void *ud, const cu_subcontractor_row *row)
{
	struct list_acc *acc = ud;

	/* end_us is 00:00 UTC after the last day in force: the record names that day. */
	add(acc->a, NULL,
	    json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", row->id, "name", row->name,
	              "contact", row->contact, "purposes", split(row->purposes_text, ','), "fields",
	              split(row->fields_text, ','), "measures", split(row->measures, '\n'), "start",
	              day(row->start_us), "end", day(row->end_us - CU_DAY_US)),
	    &acc->bad);
	return acc->bad;
}

static json_t *retention_of(const cu_policy *p)
{
	json_t *o = json_object(), *pu = json_object(), *fi = json_object(), *rules = json_array();
	int bad = 0;

	for (size_t i = 0; pu && i < p->npurposes; i++)
		add(pu, p->purposes[i].id, cu_records_retention(p, "purpose", p->purposes[i].id),
		    &bad);
	for (size_t i = 0; fi && i < p->nfields; i++)
		add(fi, p->fields[i].name, cu_records_retention(p, "field", p->fields[i].name),
		    &bad);
	for (size_t i = 0; rules && i < sizeof(retention_rules) / sizeof(retention_rules[0]); i++)
		add(rules, NULL, json_string(retention_rules[i]), &bad);
	add(o, "purposes", pu, &bad);
	add(o, "fields", fi, &bad);
	add(o, "rules", rules, &bad);
	if (bad || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *measures_of(void)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; a && i < sizeof(measures) / sizeof(measures[0]); i++)
		add(a, NULL,
		    json_pack("{s:s, s:s, s:s}", "id", measures[i].id, "measure",
		              measures[i].measure, "detail", measures[i].detail),
		    &bad);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

cu_result cu_records_build(cu_ctx *ctx, json_t **out)
{
	const cu_policy *p;
	char digest[DIGEST_HEX_BYTES];
	struct list_acc tps = {0}, subs = {0};
	json_t *rec = NULL;
	cu_result rc;
	int bad = 0;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!ctx || !ctx->policy || !ctx->store)
		return CU_ERR_INVALID_ARGUMENT;
	p = ctx->policy;
	tps.a = json_array();
	subs.a = json_array();
	if (!tps.a || !subs.a) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	rc = cu_third_party_list(ctx->store, on_third_party, &tps);
	if (!rc && tps.bad)
		rc = CU_ERR_NOMEM;
	if (!rc)
		rc = cu_subcontractor_list(ctx->store, on_subcontractor, &subs);
	if (!rc && subs.bad)
		rc = CU_ERR_NOMEM;
	if (rc)
		goto out;
	for (size_t i = 0; i < CU_POLICY_DIGESTBYTES; i++)
		snprintf(digest + 2 * i, 3, "%02x", p->digest[i]);
	rec = json_object();
	if (!rec) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	add(rec, "policy",
	    json_pack("{s:s, s:s, s:s}", "version", p->version ? p->version : "", "title",
	              p->title ? p->title : "", "digest", digest),
	    &bad);
	add(rec, "purposes", purposes_of(p), &bad);
	add(rec, "fields", fields_of(p), &bad);
	add(rec, "other_data", other_data_of(), &bad);
	add(rec, "roles", roles_of(p), &bad);
	add(rec, "exceptions", exceptions_of(p), &bad);
	add(rec, "third_parties", tps.a, &bad);
	tps.a = NULL;
	add(rec, "subcontractors", subs.a, &bad);
	subs.a = NULL;
	add(rec, "retention", retention_of(p), &bad);
	add(rec, "safety_measures", measures_of(), &bad);
	if (bad) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	*out = rec;
	rec = NULL;
out:
	json_decref(rec);
	json_decref(tps.a);
	json_decref(subs.a);
	return rc;
}

/* ---- Markdown ------------------------------------------------------------ */

/* A text as one table cell: '|' escaped, line breaks as "<br>". */
static void cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputs("<br>", f);
		else if (*s != '\r')
			fputc(*s, f);
	}
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* An array of strings joined with ", " as a cell ("—" when empty). */
static void list_cell(FILE *f, const json_t *a)
{
	size_t i, n = json_array_size(a);

	if (!n)
		fputs("—", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		cell(f, json_string_value(json_array_get(a, i)));
	}
}

static const char *yes(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

static void md_purposes(FILE *f, const json_t *rec)
{
	const json_t *a = json_object_get(rec, "purposes"), *pu;
	size_t i;

	fputs("\n## Purposes of use\n\n"
	      "| # | purpose | roles that may use it | fields it grants | case | aggregate only "
	      "| consent | retention |\n"
	      "|---|---|---|---|---|---|---|---|\n",
	      f);
	json_array_foreach(a, i, pu)
	{
		fprintf(f, "| %lld | `%s`: ",
		        (long long)json_integer_value(json_object_get(pu, "number")),
		        str(pu, "id"));
		cell(f, str(pu, "text"));
		fputs(" | ", f);
		list_cell(f, json_object_get(pu, "roles"));
		fputs(" | ", f);
		list_cell(f, json_object_get(pu, "fields"));
		if (json_is_true(json_object_get(pu, "diaries")))
			fputs("; members' diaries", f);
		fprintf(f, " | %s | %s | %s | ", yes(pu, "requires_case"),
		        yes(pu, "aggregate_only"),
		        json_is_true(json_object_get(pu, "consent_required")) ? "required" : "no");
		cell(f, str(pu, "retention"));
		fputs(" |\n", f);
	}
}

static void md_fields(FILE *f, const json_t *rec)
{
	const json_t *a = json_object_get(rec, "fields"), *fi;
	size_t i;

	fputs("\n## Personal data: fields and categories\n\n"
	      "| field | label | kind | category | required | retention |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	json_array_foreach(a, i, fi)
	{
		fprintf(f, "| `%s` | ", str(fi, "name"));
		cell(f, str(fi, "label"));
		fprintf(f, " | %s | %s | %s | ", str(fi, "kind"), str(fi, "category"),
		        yes(fi, "required"));
		cell(f, str(fi, "retention"));
		fputs(" |\n", f);
	}
	fputs("\nKept per member besides the fields:\n\n", f);
	json_array_foreach(json_object_get(rec, "other_data"), i, fi)
	{
		fprintf(f, "- `%s`: ", str(fi, "name"));
		cell(f, str(fi, "what"));
		fputs("\n", f);
	}
}

static void md_roles(FILE *f, const json_t *rec)
{
	const json_t *r;
	size_t i;

	fputs("\n## Roles\n\n| role | purposes it may use | note |\n|---|---|---|\n", f);
	json_array_foreach(json_object_get(rec, "roles"), i, r)
	{
		fprintf(f, "| %s | ", str(r, "name"));
		list_cell(f, json_object_get(r, "purposes"));
		fputs(" | ", f);
		cell(f, str(r, "note"));
		fputs(" |\n", f);
	}
	fputs("\nStatutory exceptions to consent (invoked by an officer, each reviewed):\n\n", f);
	json_array_foreach(json_object_get(rec, "exceptions"), i, r)
	{
		fprintf(f, "- `%s`: ", str(r, "id"));
		cell(f, str(r, "text"));
		fputs("\n", f);
	}
}

/* How one column of a registry table shows its key. */
enum md_col { MD_CODE, MD_TEXT, MD_LIST, MD_PLAIN, MD_RANGE };

struct md_column {
	const char *key;
	enum md_col kind;
	const char *to; /* MD_RANGE: the key of the range's end ("key to to") */
};

#define MD_COL(key, kind)                                                                          \
	{                                                                                          \
		key, kind, NULL                                                                    \
	}

/*
 * A registry's table under a heading: one row per object of the array, the
 * columns in order ("None registered." when it is empty).  `header` is the
 * table's first two lines.
 */
static void md_table(FILE *f, const char *heading, const json_t *a, const char *header,
                     const struct md_column *cols, size_t ncols)
{
	const json_t *o;
	size_t i, c;

	fprintf(f, "\n## %s\n\n", heading);
	fputs(json_array_size(a) ? header : "None registered.\n", f);
	json_array_foreach(a, i, o)
	{
		for (c = 0; c < ncols; c++) {
			const char *key = cols[c].key;

			fputs(c ? " | " : "| ", f);
			switch (cols[c].kind) {
			case MD_CODE:
				fprintf(f, "`%s`", str(o, key));
				break;
			case MD_TEXT:
				cell(f, str(o, key));
				break;
			case MD_LIST:
				list_cell(f, json_object_get(o, key));
				break;
			case MD_PLAIN:
				fputs(str(o, key), f);
				break;
			case MD_RANGE:
				fprintf(f, "%s to %s", str(o, key), str(o, cols[c].to));
				break;
			}
		}
		fputs(" |\n", f);
	}
}

static void md_registries(FILE *f, const json_t *rec)
{
	static const struct md_column third_party[] = {
	    MD_COL("id", MD_CODE),      MD_COL("name", MD_TEXT),   MD_COL("contact", MD_TEXT),
	    MD_COL("purpose", MD_TEXT), MD_COL("fields", MD_LIST), MD_COL("registered", MD_PLAIN),
	};
	static const struct md_column subcontractor[] = {
	    MD_COL("id", MD_CODE),       MD_COL("name", MD_TEXT),   MD_COL("contact", MD_TEXT),
	    MD_COL("purposes", MD_LIST), MD_COL("fields", MD_LIST), MD_COL("measures", MD_LIST),
	    {"start", MD_RANGE, "end"},
	};

	md_table(f, "Third parties (provision with the member's consent)",
	         json_object_get(rec, "third_parties"),
	         "| id | name | contact | purpose of provision | fields provided | registered |\n"
	         "|---|---|---|---|---|---|\n",
	         third_party, sizeof(third_party) / sizeof(third_party[0]));
	md_table(
	    f, "Subcontractors (entrusted with handling)", json_object_get(rec, "subcontractors"),
	    "| id | name | contact | purposes | fields processed | measures required | in force |\n"
	    "|---|---|---|---|---|---|---|\n",
	    subcontractor, sizeof(subcontractor) / sizeof(subcontractor[0]));
}

static void md_retention(FILE *f, const json_t *rec)
{
	const json_t *ret = json_object_get(rec, "retention"), *r;
	size_t i;

	fputs("\n## Retention\n\n"
	      "Per purpose and per field, as the policy file sets them: see the tables above.\n"
	      "Whatever the policy file says, the code applies:\n\n",
	      f);
	json_array_foreach(json_object_get(ret, "rules"), i, r)
	{
		fputs("- ", f);
		cell(f, json_string_value(r));
		fputs("\n", f);
	}
}

static void md_measures(FILE *f, const json_t *rec)
{
	const json_t *m;
	size_t i;

	fputs("\n## Safety measures Custodian applies\n", f);
	json_array_foreach(json_object_get(rec, "safety_measures"), i, m)
	{
		fprintf(f, "\n- **%s** (`%s`). ", str(m, "measure"), str(m, "id"));
		cell(f, str(m, "detail"));
		fputs("\n", f);
	}
}

cu_result cu_records_markdown(const json_t *rec, char **out, size_t *len)
{
	const json_t *pol = json_object_get(rec, "policy");
	FILE *f;

	if (!out || !len)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	*len = 0;
	if (!json_is_object(pol) || !json_is_array(json_object_get(rec, "purposes")))
		return CU_ERR_INVALID_ARGUMENT;
	f = open_memstream(out, len);
	if (!f)
		return CU_ERR_NOMEM;
	fputs("# Record of processing\n\nGenerated by `custodian records` from the policy in force "
	      "and the registries.\n\n",
	      f);
	fputs("- Policy: ", f);
	cell(f, str(pol, "title"));
	fprintf(f, ", version `%s`\n- Policy file digest (BLAKE2b-256): `%s`\n",
	        str(pol, "version"), str(pol, "digest"));
	md_purposes(f, rec);
	md_fields(f, rec);
	md_roles(f, rec);
	md_registries(f, rec);
	md_retention(f, rec);
	md_measures(f, rec);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		*len = 0;
		return CU_ERR_NOMEM;
	}
	return CU_OK;
}
