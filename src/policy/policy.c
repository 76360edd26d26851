/*
 * src/policy/policy.c — the privacy policy as data: loading, validation, lookups.
 *
 * The file is parsed whole by jansson (duplicate keys refused), then walked
 * once, top to bottom.  Every check that fails names the file, the JSON path
 * and what is wrong on one line, because the person reading it is a privacy
 * officer who just edited the file, not a programmer with a debugger.
 *
 * Everything the loaded policy points at (the struct itself, its arrays and
 * every string) lives in one arena hung off priv_, so the policy shares
 * nothing with the parser and cu_policy_free() is one walk over the chunks.
 *
 * The file format is documented in docs/policy-file.md; keep the two in step.
 */
#include "policy/policy.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file_read.h"

/*
 * Bounds.  A policy is written by people and read on every request, so
 * everything is bounded: nothing in the file can make the loader or the
 * structures it builds grow without limit.
 */
#define VERSION_MAX      64           /* it appears in audit rows and URLs */
#define LINE_MAX_        200          /* titles, labels, service names */
#define SENTENCE_MAX     4096         /* purpose, exception and cookie texts */
#define TEXT_MAX         (256 * 1024) /* the policy text itself */
#define FIELD_LENGTH_MAX 65536        /* a field's max_length */
#define PURPOSES_MAX     64           /* purposes, and the range of their numbers */
#define SERVICES_MAX     64
#define EXCEPTIONS_MAX   16
#define COOKIES_MAX      16
#define PATH_LEN         128            /* "purposes[63].fields[63]" and friends */
#define SHOW_MAX         40             /* bytes of a quoted value in a message */
#define MSG_BYTES        CU_ERR_MSG_MAX /* one message of the loader's */
#define WHERE_BYTES      64             /* "line %d, column %d" of a JSON error */
#define INT_TEXT_BYTES   32             /* "%lld" of any long long, and its NUL */
_Static_assert(CU_POLICY_DIGESTBYTES == crypto_generichash_BYTES, "a policy digest is BLAKE2b-256");

/* ---- the arena that owns a loaded policy ---- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define CHUNK_SIZE 16384

static void arena_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* Zeroed memory aligned for anything; NULL when out of memory. */
static void *arena_alloc(struct chunk **head, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct chunk *c = *head;
	size_t need;
	void *ptr;

	if (size > SIZE_MAX / 2)
		return NULL;
	need = (size + align - 1) / align * align;
	if (need == 0)
		need = align;
	if (!c || c->cap - c->used < need) {
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		/*
		 * A large block (the policy text) gets a chunk of its own behind
		 * the current one, so the room left in the current one is not lost.
		 */
		if (need > CHUNK_SIZE / 4 && *head) {
			c->next = (*head)->next;
			(*head)->next = c;
		} else {
			c->next = *head;
			*head = c;
		}
	}
	ptr = (char *)c->data + c->used;
	c->used += need;
	memset(ptr, 0, need);
	return ptr;
}

static char *arena_strndup(struct chunk **head, const char *s, size_t len)
{
	char *copy = arena_alloc(head, len + 1);

	if (copy) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* ---- roles ---- */

static const char *const role_names[CU_ROLE_COUNT_] = {
    [CU_ROLE_MEMBER] = "member",
    [CU_ROLE_STAFF] = "staff",
    [CU_ROLE_ANALYST] = "analyst",
    [CU_ROLE_SERVICE] = "service",
    [CU_ROLE_SUBCONTRACTOR] = "subcontractor",
    [CU_ROLE_OFFICER] = "officer",
    [CU_ROLE_ADMIN] = "admin",
    [CU_ROLE_OPERATOR] = "operator",
};

const char *cu_role_name(cu_role role)
{
	if ((int)role < 0 || role >= CU_ROLE_COUNT_)
		return NULL;
	return role_names[role];
}

cu_result cu_role_parse(const char *name, cu_role *out)
{
	if (!name || !out)
		return CU_ERR_INVALID_ARGUMENT;
	for (int r = 0; r < CU_ROLE_COUNT_; r++) {
		if (strcmp(name, role_names[r]) == 0) {
			*out = (cu_role)r;
			return CU_OK;
		}
	}
	return CU_ERR_INVALID_ARGUMENT;
}

/* ---- field kinds ---- */

/* Indexed by cu_field_kind; the words of the file. */
static const char *const kind_names[] = {
    [CU_FIELD_TEXT] = "text",       [CU_FIELD_NAME] = "name",   [CU_FIELD_ADDRESS] = "address",
    [CU_FIELD_EMAIL] = "email",     [CU_FIELD_PHONE] = "phone", [CU_FIELD_DATE] = "date",
    [CU_FIELD_INTEGER] = "integer", [CU_FIELD_LIST] = "list",
};

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *cu_field_kind_name(cu_field_kind kind)
{
	return (size_t)kind < NKINDS ? kind_names[kind] : NULL;
}

/* ---- the loader ---- */

struct loader {
	const char *name; /* the file name for messages */
	char *err;
	size_t errlen;
	struct chunk *arena;
	cu_policy *p;
};

/* How a string is checked beyond its length. */
enum str_rule {
	STR_LINE,    /* one line: no control characters */
	STR_TEXT,    /* prose: tabs and line breaks allowed */
	STR_ID,      /* [a-z][a-z0-9_]*, at most CU_POLICY_ID_MAX */
	STR_VERSION, /* [A-Za-z0-9._-]+ */
};

/*
 * Makes the message one printable line: jansson's own texts and the file
 * name are not ours, and a message that spans lines breaks logs and the CLI.
 */
static void one_line(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			*s = '?';
	}
}

static cu_result fail(struct loader *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cu_result fail(struct loader *l, const char *path, const char *fmt, ...)
{
	char msg[MSG_BYTES];
	va_list ap;

	if (!l->err || !l->errlen)
		return CU_ERR_POLICY_INVALID;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s: %s: %s", l->name, path && *path ? path : "(top level)",
	         msg);
	one_line(l->err);
	return CU_ERR_POLICY_INVALID;
}

static cu_result too_large(struct loader *l, size_t len)
{
	return fail(l, "(top level)", "the file is %zu bytes; at most %d are allowed", len,
	            CU_POLICY_FILE_MAX);
}

static cu_result nomem(struct loader *l)
{
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "%s: out of memory", l->name);
	return CU_ERR_NOMEM;
}

/*
 * A value from the file made fit for a message: control characters become
 * '?', and it is cut (on a UTF-8 boundary) after SHOW_MAX bytes.
 */
static const char *show(char *buf, size_t buflen, const char *s)
{
	size_t n = 0, len = strlen(s);
	size_t keep = len, room = buflen > 4 ? buflen - 4 : 0;

	if (room > SHOW_MAX)
		room = SHOW_MAX;
	if (keep > room) {
		keep = room;
		/* do not cut a multi-byte character in half */
		while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
			keep--;
	}
	for (; n < keep; n++) {
		unsigned char c = (unsigned char)s[n];

		buf[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (keep < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

/* path + "." + key, or key alone at the top level. */
/*
 * Paths are built from the loader's own key names and bounded indices, so
 * they fit PATH_LEN.  Were one ever cut, its end says so rather than
 * pointing somewhere else.
 */
static void mark_cut(char *out, size_t outlen, int n)
{
	if ((n < 0 || (size_t)n >= outlen) && outlen >= 4)
		memcpy(out + outlen - 4, "...", 4);
}

static void join(char *out, size_t outlen, const char *path, const char *key)
{
	int n;

	if (*path)
		n = snprintf(out, outlen, "%s.%s", path, key);
	else
		n = snprintf(out, outlen, "%s", key);
	mark_cut(out, outlen, n);
}

static void index_path(char *out, size_t outlen, const char *path, size_t i)
{
	mark_cut(out, outlen, snprintf(out, outlen, "%s[%zu]", path, i));
}

static bool valid_id(const char *s, size_t len)
{
	if (!s)
		return false;
	if (len == 0 || len > CU_POLICY_ID_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

bool cu_policy_id_form(const char *s)
{
	return s && valid_id(s, strnlen(s, CU_POLICY_ID_MAX + 1));
}

static bool valid_version(const char *s, size_t len)
{
	if (len == 0 || len > VERSION_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static bool has_control(const char *s, bool prose)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (prose && (c == '\t' || c == '\n' || c == '\r'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/*
 * Checks that v is an object whose keys are all in `keys` (NULL-terminated).
 * Unknown keys are errors, not ignored: a misspelt "requires_case" silently
 * dropped would open a purpose without its case check.
 */
static cu_result check_object(struct loader *l, const json_t *v, const char *path,
                              const char *const *keys)
{
	const char *key;
	json_t *val;
	char shown[SHOW_MAX + 4];

	if (!json_is_object(v))
		return fail(l, path, "expected an object, got %s", type_name(v));
	json_object_foreach((json_t *)v, key, val)
	{
		const char *const *k = keys;

		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return fail(l, path, "unknown key '%s'", show(shown, sizeof(shown), key));
	}
	return CU_OK;
}

/* The value of a required key, or an error naming it. */
static cu_result need(struct loader *l, const json_t *obj, const char *path, const char *key,
                      json_t **out)
{
	*out = json_object_get(obj, key);
	if (!*out)
		return fail(l, path, "missing required key '%s'", key);
	return CU_OK;
}

/* A required string, checked by `rule` and copied into the arena. */
static cu_result take_string(struct loader *l, const json_t *obj, const char *path, const char *key,
                             enum str_rule rule, size_t maxlen, const char **out)
{
	char kp[PATH_LEN], shown[SHOW_MAX + 4];
	const char *s;
	size_t len;
	json_t *v;
	cu_result rc;

	rc = need(l, obj, path, key, &v);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, key);
	if (!json_is_string(v))
		return fail(l, kp, "expected a string, got %s", type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (blank(s))
		return fail(l, kp, "must not be empty");
	switch (rule) {
	case STR_ID:
		if (!valid_id(s, len))
			return fail(l, kp,
			            "invalid id '%s': use a lowercase letter, then "
			            "lowercase letters, digits or '_', at most %d characters",
			            show(shown, sizeof(shown), s), CU_POLICY_ID_MAX);
		break;
	case STR_VERSION:
		if (!valid_version(s, len))
			return fail(l, kp,
			            "invalid version '%s': use letters, digits, '.', "
			            "'-' and '_', at most %d characters",
			            show(shown, sizeof(shown), s), VERSION_MAX);
		break;
	case STR_LINE:
	case STR_TEXT:
		if (len > maxlen)
			return fail(l, kp, "is %zu bytes long; at most %zu are allowed", len,
			            maxlen);
		if (has_control(s, rule == STR_TEXT))
			return fail(l, kp, "contains a control character");
		break;
	}
	*out = arena_strndup(&l->arena, s, len);
	return *out ? CU_OK : nomem(l);
}

/* An optional boolean; false when absent. */
static cu_result take_bool(struct loader *l, const json_t *obj, const char *path, const char *key,
                           bool *out)
{
	char kp[PATH_LEN];
	json_t *v = json_object_get(obj, key);

	*out = false;
	if (!v)
		return CU_OK;
	if (!json_is_boolean(v)) {
		join(kp, sizeof(kp), path, key);
		return fail(l, kp, "expected true or false, got %s", type_name(v));
	}
	*out = json_is_true(v);
	return CU_OK;
}

/* A required integer within [lo, hi]. */
static cu_result take_int(struct loader *l, const json_t *obj, const char *path, const char *key,
                          long long lo, long long hi, long long *out)
{
	char kp[PATH_LEN];
	json_t *v;
	long long n;
	cu_result rc;

	rc = need(l, obj, path, key, &v);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, key);
	if (!json_is_integer(v))
		return fail(l, kp, "expected an integer, got %s", type_name(v));
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return fail(l, kp, "%lld is out of range %lld..%lld", n, lo, hi);
	*out = n;
	return CU_OK;
}

/* A required array of min..max entries. */
static cu_result take_array(struct loader *l, const json_t *obj, const char *path, const char *key,
                            size_t min, size_t max, json_t **out)
{
	char kp[PATH_LEN];
	size_t n;
	cu_result rc;

	rc = need(l, obj, path, key, out);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, key);
	if (!json_is_array(*out))
		return fail(l, kp, "expected an array, got %s", type_name(*out));
	n = json_array_size(*out);
	if (n < min)
		return fail(l, kp, "must not be empty");
	if (n > max)
		return fail(l, kp, "has %zu entries; at most %zu are allowed", n, max);
	return CU_OK;
}

/* Entry i of a list of names: must be a string. */
static cu_result list_name(struct loader *l, const json_t *arr, const char *path, size_t i,
                           char *ip, size_t iplen, const char **out)
{
	json_t *v = json_array_get(arr, i);

	index_path(ip, iplen, path, i);
	if (!json_is_string(v))
		return fail(l, ip, "expected a string, got %s", type_name(v));
	*out = json_string_value(v);
	return CU_OK;
}

/* The digits "%lld" needs for n. */
static size_t int_width(long long n)
{
	char buf[INT_TEXT_BYTES];
	int w = snprintf(buf, sizeof(buf), "%lld", n);

	return w > 0 ? (size_t)w : 0;
}

/* ---- the sections ---- */

static const char *const field_keys[] = {"name",   "label",      "kind", "required", "identifier",
                                         "survey", "max_length", "min",  "max",      NULL};

static cu_result load_field(struct loader *l, const json_t *obj, const char *path, size_t i,
                            cu_policy_field *f)
{
	char kp[PATH_LEN], shown[SHOW_MAX + 4];
	const char *kind;
	long long n;
	size_t k;
	cu_result rc;

	rc = check_object(l, obj, path, field_keys);
	if (rc)
		return rc;
	rc = take_string(l, obj, path, "name", STR_ID, CU_POLICY_ID_MAX, &f->name);
	if (rc)
		return rc;
	for (size_t j = 0; j < i; j++) {
		if (strcmp(l->p->fields[j].name, f->name) == 0) {
			join(kp, sizeof(kp), path, "name");
			return fail(l, kp, "duplicate field '%s' (also fields[%zu])", f->name, j);
		}
	}
	rc = take_string(l, obj, path, "label", STR_LINE, LINE_MAX_, &f->label);
	if (rc)
		return rc;
	rc = take_string(l, obj, path, "kind", STR_LINE, LINE_MAX_, &kind);
	if (rc)
		return rc;
	for (k = 0; k < NKINDS; k++)
		if (strcmp(kind, kind_names[k]) == 0)
			break;
	if (k == NKINDS) {
		join(kp, sizeof(kp), path, "kind");
		return fail(l, kp,
		            "unknown kind '%s' (expected text, name, address, email, "
		            "phone, date, integer or list)",
		            show(shown, sizeof(shown), kind));
	}
	f->kind = (cu_field_kind)k;
	rc = take_bool(l, obj, path, "required", &f->required);
	if (!rc)
		rc = take_bool(l, obj, path, "identifier", &f->identifier);
	if (!rc)
		rc = take_bool(l, obj, path, "survey", &f->survey);
	if (rc)
		return rc;
	/*
	 * The policy promises that the survey questions need not be answered;
	 * a required survey field would make the software break that promise.
	 */
	if (f->required && f->survey)
		return fail(l, path,
		            "a survey field cannot be required: members may "
		            "decline any survey question");
	rc = take_int(l, obj, path, "max_length", 1, FIELD_LENGTH_MAX, &n);
	if (rc)
		return rc;
	f->max_length = (size_t)n;
	if (f->kind == CU_FIELD_DATE && f->max_length < 10) {
		join(kp, sizeof(kp), path, "max_length");
		return fail(l, kp, "a date needs 10 bytes (YYYY-MM-DD), not %zu", f->max_length);
	}
	if (f->kind != CU_FIELD_INTEGER) {
		/* Bounds on a non-integer would be silently ignored; say so instead. */
		if (json_object_get(obj, "min") || json_object_get(obj, "max")) {
			join(kp, sizeof(kp), path, json_object_get(obj, "min") ? "min" : "max");
			return fail(l, kp, "only a field of kind 'integer' has bounds");
		}
		return CU_OK;
	}
	rc = take_int(l, obj, path, "min", LLONG_MIN, LLONG_MAX, &f->min);
	if (!rc)
		rc = take_int(l, obj, path, "max", LLONG_MIN, LLONG_MAX, &f->max);
	if (rc)
		return rc;
	if (f->min > f->max) {
		join(kp, sizeof(kp), path, "min");
		return fail(l, kp, "min %lld is greater than max %lld", f->min, f->max);
	}
	if (int_width(f->min) > f->max_length || int_width(f->max) > f->max_length) {
		join(kp, sizeof(kp), path, "max_length");
		return fail(l, kp, "%zu bytes cannot hold %lld", f->max_length,
		            int_width(f->min) > f->max_length ? f->min : f->max);
	}
	return CU_OK;
}

static cu_result load_fields(struct loader *l, const json_t *root)
{
	char ip[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = take_array(l, root, "", "fields", 1, CU_POLICY_FIELDS_MAX, &arr);
	if (rc)
		return rc;
	l->p->fields = arena_alloc(&l->arena, json_array_size(arr) * sizeof(cu_policy_field));
	if (!l->p->fields)
		return nomem(l);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		index_path(ip, sizeof(ip), "fields", i);
		rc = load_field(l, json_array_get(arr, i), ip, i, &l->p->fields[i]);
		if (rc)
			return rc;
		l->p->nfields = i + 1;
	}
	return CU_OK;
}

/* The field named at entry i of a list; for "unknown field" the path of the entry. */
static cu_result list_field(struct loader *l, const json_t *arr, const char *path, size_t i,
                            cu_fieldset seen, char *ip, size_t iplen, int *idx)
{
	char shown[SHOW_MAX + 4];
	const char *name;
	cu_result rc;

	rc = list_name(l, arr, path, i, ip, iplen, &name);
	if (rc)
		return rc;
	*idx = cu_policy_field_index(l->p, name);
	if (*idx < 0)
		return fail(l, ip, "unknown field '%s'", show(shown, sizeof(shown), name));
	if (seen & ((cu_fieldset)1 << *idx))
		return fail(l, ip, "duplicate field '%s'", name);
	return CU_OK;
}

static const char *const purpose_keys[] = {"id",
                                           "number",
                                           "text",
                                           "roles",
                                           "fields",
                                           "requires_case",
                                           "aggregate_only",
                                           "consent_required",
                                           "diaries",
                                           NULL};

static cu_result load_purpose(struct loader *l, const json_t *obj, const char *path, size_t i,
                              cu_policy_purpose *pp)
{
	char kp[PATH_LEN], ip[PATH_LEN], shown[SHOW_MAX + 4];
	json_t *arr;
	long long n;
	cu_result rc;

	rc = check_object(l, obj, path, purpose_keys);
	if (!rc)
		rc = take_string(l, obj, path, "id", STR_ID, CU_POLICY_ID_MAX, &pp->id);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, "id");
	/* access.h: "self" is how a member reads their own record. */
	if (strcmp(pp->id, "self") == 0)
		return fail(l, kp, "'self' is reserved for a member's reads of their own record");
	for (size_t j = 0; j < i; j++)
		if (strcmp(l->p->purposes[j].id, pp->id) == 0)
			return fail(l, kp, "duplicate purpose '%s' (also purposes[%zu])", pp->id,
			            j);
	rc = take_int(l, obj, path, "number", 1, PURPOSES_MAX, &n);
	if (rc)
		return rc;
	pp->number = (int)n;
	for (size_t j = 0; j < i; j++) {
		if (l->p->purposes[j].number == pp->number) {
			join(kp, sizeof(kp), path, "number");
			return fail(l, kp, "duplicate number %d (also purpose '%s')", pp->number,
			            l->p->purposes[j].id);
		}
	}
	rc = take_string(l, obj, path, "text", STR_TEXT, SENTENCE_MAX, &pp->text);
	if (rc)
		return rc;

	rc = take_array(l, obj, path, "roles", 1, CU_POLICY_FIELDS_MAX, &arr);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, "roles");
	for (size_t j = 0; j < json_array_size(arr); j++) {
		const char *name;
		cu_role role;

		rc = list_name(l, arr, kp, j, ip, sizeof(ip), &name);
		if (rc)
			return rc;
		if (cu_role_parse(name, &role) != CU_OK)
			return fail(l, ip, "unknown role '%s'", show(shown, sizeof(shown), name));
		/*
		 * Two roles are settled in code, not here.  A member reads only
		 * their own record (purpose "self"); granting the member role a
		 * purpose would let every member read every other member.  The
		 * operator is granted every purpose by the access module, so
		 * listing it would suggest that removing it revokes something.
		 */
		if (role == CU_ROLE_MEMBER)
			return fail(l, ip,
			            "role 'member' cannot be granted a purpose: "
			            "members read only their own record");
		if (role == CU_ROLE_OPERATOR)
			return fail(l, ip,
			            "role 'operator' cannot be listed: the operator "
			            "is granted every purpose by the access module");
		if (pp->roles & (1u << role))
			return fail(l, ip, "duplicate role '%s'", name);
		pp->roles |= 1u << role;
	}

	rc = take_bool(l, obj, path, "requires_case", &pp->requires_case);
	if (!rc)
		rc = take_bool(l, obj, path, "aggregate_only", &pp->aggregate_only);
	if (!rc)
		rc = take_bool(l, obj, path, "consent_required", &pp->consent_required);
	if (!rc)
		rc = take_bool(l, obj, path, "diaries", &pp->diaries);
	if (rc)
		return rc;
	/* Diaries are one member's own writing: only a case review may open them. */
	if (pp->diaries && !pp->requires_case)
		return fail(l, path, "a purpose that reads diaries must require a case");
	/* A case review reads one member; an aggregate never does. */
	if (pp->requires_case && pp->aggregate_only)
		return fail(l, path, "a purpose cannot both require a case and be aggregate-only");

	rc = take_array(l, obj, path, "fields", 0, CU_POLICY_FIELDS_MAX, &arr);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, "fields");
	for (size_t j = 0; j < json_array_size(arr); j++) {
		int idx;

		rc = list_field(l, arr, kp, j, pp->fields, ip, sizeof(ip), &idx);
		if (rc)
			return rc;
		/*
		 * For an aggregate-only purpose `fields` are what it may count
		 * over.  Counting names or e-mail addresses is never a statistic
		 * and invites re-identification, so identifiers are refused.
		 */
		if (pp->aggregate_only && l->p->fields[idx].identifier)
			return fail(l, ip,
			            "an aggregate-only purpose cannot use identifier "
			            "field '%s'",
			            l->p->fields[idx].name);
		pp->fields |= (cu_fieldset)1 << idx;
	}
	return CU_OK;
}

static cu_result load_purposes(struct loader *l, const json_t *root)
{
	char ip[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = take_array(l, root, "", "purposes", 1, PURPOSES_MAX, &arr);
	if (rc)
		return rc;
	l->p->purposes = arena_alloc(&l->arena, json_array_size(arr) * sizeof(cu_policy_purpose));
	if (!l->p->purposes)
		return nomem(l);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		index_path(ip, sizeof(ip), "purposes", i);
		rc = load_purpose(l, json_array_get(arr, i), ip, i, &l->p->purposes[i]);
		if (rc)
			return rc;
		l->p->npurposes = i + 1;
	}
	return CU_OK;
}

static const char *const service_keys[] = {"id", "name", "requires", NULL};

static cu_result load_service(struct loader *l, const json_t *obj, const char *path, size_t i,
                              cu_policy_service *s)
{
	char kp[PATH_LEN], ip[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = check_object(l, obj, path, service_keys);
	if (!rc)
		rc = take_string(l, obj, path, "id", STR_ID, CU_POLICY_ID_MAX, &s->id);
	if (rc)
		return rc;
	for (size_t j = 0; j < i; j++) {
		if (strcmp(l->p->services[j].id, s->id) == 0) {
			join(kp, sizeof(kp), path, "id");
			return fail(l, kp, "duplicate service '%s' (also services[%zu])", s->id, j);
		}
	}
	rc = take_string(l, obj, path, "name", STR_LINE, LINE_MAX_, &s->name);
	if (!rc)
		rc = take_array(l, obj, path, "requires", 0, CU_POLICY_FIELDS_MAX, &arr);
	if (rc)
		return rc;
	join(kp, sizeof(kp), path, "requires");
	for (size_t j = 0; j < json_array_size(arr); j++) {
		int idx;

		rc = list_field(l, arr, kp, j, s->requires, ip, sizeof(ip), &idx);
		if (rc)
			return rc;
		/*
		 * Only optional survey answers can gate a service: registration
		 * fields are always present, so requiring one would mean nothing.
		 */
		if (!l->p->fields[idx].survey)
			return fail(l, ip, "field '%s' is not a survey field",
			            l->p->fields[idx].name);
		s->requires |= (cu_fieldset)1 << idx;
	}
	return CU_OK;
}

static cu_result load_services(struct loader *l, const json_t *root)
{
	char ip[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = take_array(l, root, "", "services", 0, SERVICES_MAX, &arr);
	if (rc)
		return rc;
	l->p->services = arena_alloc(&l->arena, json_array_size(arr) * sizeof(cu_policy_service));
	if (!l->p->services)
		return nomem(l);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		index_path(ip, sizeof(ip), "services", i);
		rc = load_service(l, json_array_get(arr, i), ip, i, &l->p->services[i]);
		if (rc)
			return rc;
		l->p->nservices = i + 1;
	}
	return CU_OK;
}

static const char *const exception_keys[] = {"id", "text", NULL};

static cu_result load_exceptions(struct loader *l, const json_t *root)
{
	char ip[PATH_LEN], kp[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = take_array(l, root, "", "exceptions", 0, EXCEPTIONS_MAX, &arr);
	if (rc)
		return rc;
	l->p->exceptions =
	    arena_alloc(&l->arena, json_array_size(arr) * sizeof(cu_policy_exception));
	if (!l->p->exceptions)
		return nomem(l);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *obj = json_array_get(arr, i);
		cu_policy_exception *e = &l->p->exceptions[i];

		index_path(ip, sizeof(ip), "exceptions", i);
		rc = check_object(l, obj, ip, exception_keys);
		if (!rc)
			rc = take_string(l, obj, ip, "id", STR_ID, CU_POLICY_ID_MAX, &e->id);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l->p->exceptions[j].id, e->id) == 0) {
				join(kp, sizeof(kp), ip, "id");
				return fail(l, kp,
				            "duplicate exception '%s' (also exceptions[%zu])",
				            e->id, j);
			}
		}
		rc = take_string(l, obj, ip, "text", STR_TEXT, SENTENCE_MAX, &e->text);
		if (rc)
			return rc;
		l->p->nexceptions = i + 1;
	}
	return CU_OK;
}

static const char *const cookie_keys[] = {"id", "text", "required", NULL};

static cu_result load_cookies(struct loader *l, const json_t *root)
{
	char ip[PATH_LEN], kp[PATH_LEN];
	json_t *arr;
	cu_result rc;

	rc = take_array(l, root, "", "cookies", 0, COOKIES_MAX, &arr);
	if (rc)
		return rc;
	l->p->cookies = arena_alloc(&l->arena, json_array_size(arr) * sizeof(cu_policy_cookie));
	if (!l->p->cookies)
		return nomem(l);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *obj = json_array_get(arr, i);
		cu_policy_cookie *c = &l->p->cookies[i];

		index_path(ip, sizeof(ip), "cookies", i);
		rc = check_object(l, obj, ip, cookie_keys);
		if (!rc)
			rc = take_string(l, obj, ip, "id", STR_ID, CU_POLICY_ID_MAX, &c->id);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l->p->cookies[j].id, c->id) == 0) {
				join(kp, sizeof(kp), ip, "id");
				return fail(l, kp,
				            "duplicate cookie category '%s' (also cookies[%zu])",
				            c->id, j);
			}
		}
		rc = take_string(l, obj, ip, "text", STR_TEXT, SENTENCE_MAX, &c->text);
		if (!rc)
			rc = take_bool(l, obj, ip, "required", &c->required);
		if (rc)
			return rc;
		l->p->ncookies = i + 1;
	}
	return CU_OK;
}


/* ---- retention (docs/policy-file.md, docs/retention.md) ---- */

static const char *const retention_keys[] = {"dropped_field_grace_days",
                                             "provision_records_days",
                                             "inactive_accounts",
                                             "purposes",
                                             "fields",
                                             NULL};
static const char *const inactive_keys[] = {"notice_after_days", "erase_after_notice_days", NULL};
static const char *const purpose_retention_keys[] = {"after_last_activity_days",
                                                     "after_withdrawal_days", NULL};
static const char *const field_retention_keys[] = {"after_last_activity_days", NULL};

/* An optional number of days in [lo, CU_RETENTION_DAYS_MAX]; *out untouched when absent. */
static cu_result take_days(struct loader *l, const json_t *obj, const char *path, const char *key,
                           long long lo, int *out)
{
	long long n;
	cu_result rc;

	if (!json_object_get(obj, key))
		return CU_OK;
	rc = take_int(l, obj, path, key, lo, CU_RETENTION_DAYS_MAX, &n);
	if (!rc)
		*out = (int)n;
	return rc;
}

static cu_result load_inactive(struct loader *l, const json_t *ret)
{
	const json_t *obj = json_object_get(ret, "inactive_accounts");
	const char *path = "retention.inactive_accounts";
	long long n;
	cu_result rc;

	if (!obj)
		return CU_OK;
	rc = check_object(l, obj, path, inactive_keys);
	if (!rc)
		rc = take_int(l, obj, path, "notice_after_days", 1, CU_RETENTION_DAYS_MAX, &n);
	if (rc)
		return rc;
	l->p->retention.inactive_notice_days = (int)n;
	rc = take_int(l, obj, path, "erase_after_notice_days", 0, CU_RETENTION_DAYS_MAX, &n);
	if (!rc)
		l->p->retention.inactive_erase_days = (int)n;
	return rc;
}

static cu_result load_purpose_retention(struct loader *l, const json_t *ret)
{
	const json_t *obj = json_object_get(ret, "purposes");
	char kp[PATH_LEN], shown[SHOW_MAX + 4];
	const char *key;
	json_t *val;
	cu_result rc;

	if (!obj)
		return CU_OK;
	if (!json_is_object(obj))
		return fail(l, "retention.purposes", "expected an object, got %s", type_name(obj));
	json_object_foreach((json_t *)obj, key, val)
	{
		cu_policy_purpose *pu = NULL;

		for (size_t i = 0; !pu && i < l->p->npurposes; i++)
			if (strcmp(l->p->purposes[i].id, key) == 0)
				pu = &l->p->purposes[i];

		join(kp, sizeof(kp), "retention.purposes", key);
		if (!pu)
			return fail(l, "retention.purposes", "unknown purpose '%s'",
			            show(shown, sizeof(shown), key));
		rc = check_object(l, val, kp, purpose_retention_keys);
		if (rc)
			return rc;
		if (json_object_size(val) == 0)
			return fail(l, kp,
			            "give after_last_activity_days or after_withdrawal_days (or "
			            "leave the purpose out: kept while the membership lasts)");
		if (json_object_get(val, "after_withdrawal_days") && !pu->consent_required)
			return fail(l, kp,
			            "after_withdrawal_days is only for a consent_required purpose");
		rc = take_days(l, val, kp, "after_last_activity_days", 0, &pu->retention_days);
		if (!rc)
			rc =
			    take_days(l, val, kp, "after_withdrawal_days", 0, &pu->withdrawal_days);
		if (rc)
			return rc;
	}
	return CU_OK;
}

static cu_result load_field_retention(struct loader *l, const json_t *ret)
{
	const json_t *obj = json_object_get(ret, "fields");
	char kp[PATH_LEN], shown[SHOW_MAX + 4];
	const char *key;
	json_t *val;
	cu_result rc;

	if (!obj)
		return CU_OK;
	if (!json_is_object(obj))
		return fail(l, "retention.fields", "expected an object, got %s", type_name(obj));
	json_object_foreach((json_t *)obj, key, val)
	{
		int fi = cu_policy_field_index(l->p, key);
		cu_policy_field *f = fi >= 0 ? &l->p->fields[fi] : NULL;
		long long n;

		join(kp, sizeof(kp), "retention.fields", key);
		if (!f)
			return fail(l, "retention.fields", "unknown field '%s'",
			            show(shown, sizeof(shown), key));
		/* The account's own data goes with the account, never alone. */
		if (f->required || f->identifier)
			return fail(l, kp,
			            "'%s' is %s: it is kept while the membership lasts "
			            "(see retention.inactive_accounts)",
			            f->name, f->required ? "required" : "an identifier");
		rc = check_object(l, val, kp, field_retention_keys);
		if (!rc)
			rc = take_int(l, val, kp, "after_last_activity_days", 0,
			              CU_RETENTION_DAYS_MAX, &n);
		if (rc)
			return rc;
		f->retention_days = (int)n;
	}
	return CU_OK;
}

/* The optional "retention" section; purposes and fields are loaded before it. */
static cu_result load_retention(struct loader *l, const json_t *root)
{
	cu_policy_retention *r = &l->p->retention;
	const json_t *ret = json_object_get(root, "retention");
	cu_result rc;

	r->dropped_field_grace_days = CU_RETENTION_GRACE_DEFAULT;
	r->provision_records_days = CU_RETENTION_NONE;
	r->inactive_notice_days = CU_RETENTION_NONE;
	r->inactive_erase_days = CU_RETENTION_NONE;
	for (size_t i = 0; i < l->p->nfields; i++)
		l->p->fields[i].retention_days = CU_RETENTION_NONE;
	for (size_t i = 0; i < l->p->npurposes; i++) {
		l->p->purposes[i].retention_days = CU_RETENTION_NONE;
		l->p->purposes[i].withdrawal_days = CU_RETENTION_NONE;
	}
	if (!ret)
		return CU_OK;
	rc = check_object(l, ret, "retention", retention_keys);
	if (!rc)
		rc = take_days(l, ret, "retention", "dropped_field_grace_days", 0,
		               &r->dropped_field_grace_days);
	if (!rc && json_object_get(ret, "provision_records_days")) {
		const json_t *v = json_object_get(ret, "provision_records_days");

		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) < CU_RETENTION_PROVISION_MIN_DAYS)
			return fail(l, "retention.provision_records_days",
			            "%lld days is less than three years: records of provision are "
			            "kept at least %d days",
			            (long long)json_integer_value(v),
			            CU_RETENTION_PROVISION_MIN_DAYS);
		rc = take_days(l, ret, "retention", "provision_records_days",
		               CU_RETENTION_PROVISION_MIN_DAYS, &r->provision_records_days);
	}
	if (!rc)
		rc = load_inactive(l, ret);
	if (!rc)
		rc = load_purpose_retention(l, ret);
	if (!rc)
		rc = load_field_retention(l, ret);
	return rc;
}

/* ---- statistics (docs/policy-file.md, docs/statistics.md) ---- */

static const char *const statistics_keys[] = {"k",
                                              "epsilon_budget",
                                              "budget_period",
                                              "default_noise",
                                              "default_epsilon",
                                              "default_delta",
                                              "allow_unnoised",
                                              NULL};

/* An optional number of the statistics section in (0, max]; *out unchanged when absent. */
static cu_result take_positive(struct loader *l, const json_t *obj, const char *key, double max,
                               double *out)
{
	char kp[PATH_LEN];
	const json_t *v = json_object_get(obj, key);
	double x;

	if (!v)
		return CU_OK;
	join(kp, sizeof(kp), "statistics", key);
	if (!json_is_number(v))
		return fail(l, kp, "expected a number, got %s", type_name(v));
	x = json_number_value(v);
	if (!(x > 0) || x > max)
		return fail(l, kp, "%g is out of range: more than 0, at most %g", x, max);
	*out = x;
	return CU_OK;
}

/* The optional "statistics" section: k >= 2, a budget > 0 per calendar month. */
static cu_result load_statistics(struct loader *l, const json_t *root)
{
	cu_policy_statistics *st = &l->p->statistics;
	const json_t *obj = json_object_get(root, "statistics"), *v;
	const char *period;
	long long k;
	cu_result rc;

	st->k = CU_STATS_K_DEFAULT;
	st->epsilon_budget = CU_STATS_EPSILON_BUDGET_DEFAULT;
	st->default_gaussian = false;
	st->default_epsilon = CU_STATS_DEFAULT_EPSILON;
	st->default_delta = CU_STATS_DEFAULT_DELTA;
	st->allow_unnoised = false;
	if (!obj)
		return CU_OK;
	rc = check_object(l, obj, "statistics", statistics_keys);
	if (!rc && json_object_get(obj, "k")) {
		rc = take_int(l, obj, "statistics", "k", CU_STATS_K_MIN, CU_STATS_K_MAX, &k);
		if (!rc)
			st->k = (int)k;
	}
	if (rc)
		return rc;
	v = json_object_get(obj, "epsilon_budget");
	if (v) {
		if (!json_is_number(v))
			return fail(l, "statistics.epsilon_budget", "expected a number, got %s",
			            type_name(v));
		st->epsilon_budget = json_number_value(v);
		if (!(st->epsilon_budget > 0) || st->epsilon_budget > CU_STATS_EPSILON_BUDGET_MAX)
			return fail(l, "statistics.epsilon_budget",
			            "%g is out of range: more than 0, at most %g",
			            st->epsilon_budget, (double)CU_STATS_EPSILON_BUDGET_MAX);
	}
	if (json_object_get(obj, "budget_period")) {
		rc = take_string(l, obj, "statistics", "budget_period", STR_ID, CU_POLICY_ID_MAX,
		                 &period);
		if (rc)
			return rc;
		if (strcmp(period, "month") != 0)
			return fail(l, "statistics.budget_period",
			            "unknown period '%s': the only period is 'month'", period);
	}
	if (json_object_get(obj, "default_noise")) {
		const char *noise;

		rc = take_string(l, obj, "statistics", "default_noise", STR_ID, CU_POLICY_ID_MAX,
		                 &noise);
		if (rc)
			return rc;
		if (strcmp(noise, "laplace") && strcmp(noise, "gaussian"))
			return fail(
			    l, "statistics.default_noise",
			    "unknown noise '%s': 'laplace' or 'gaussian' (a release without "
			    "noise is asked with noise=none under allow_unnoised)",
			    noise);
		st->default_gaussian = !strcmp(noise, "gaussian");
	}
	rc = take_positive(l, obj, "default_epsilon", st->default_gaussian ? 1.0 : 10.0,
	                   &st->default_epsilon);
	if (!rc)
		rc = take_positive(l, obj, "default_delta", 1e-3, &st->default_delta);
	if (!rc && !st->default_gaussian && json_object_get(obj, "default_delta"))
		return fail(l, "statistics.default_delta",
		            "only gaussian noise takes a delta (default_noise is laplace)");
	if (!rc && st->default_epsilon > st->epsilon_budget)
		return fail(
		    l, "statistics.default_epsilon",
		    "%g is more than the epsilon_budget %g: no default release could be made",
		    st->default_epsilon, st->epsilon_budget);
	if (!rc)
		rc = take_bool(l, obj, "statistics", "allow_unnoised", &st->allow_unnoised);
	return rc;
}

static const char *const top_keys[] = {"version",   "title",      "text",       "fields",
                                       "purposes",  "services",   "exceptions", "cookies",
                                       "retention", "statistics", NULL};

/* Validates the whole document into l->p; fields first, as the rest name them. */
static cu_result load_root(struct loader *l, const json_t *root)
{
	const char *s;
	cu_result rc;

	rc = check_object(l, root, "", top_keys);
	if (rc)
		return rc;
	rc = take_string(l, root, "", "version", STR_VERSION, VERSION_MAX, &s);
	if (rc)
		return rc;
	l->p->version = (char *)s;
	rc = take_string(l, root, "", "title", STR_LINE, LINE_MAX_, &s);
	if (rc)
		return rc;
	l->p->title = (char *)s;
	rc = take_string(l, root, "", "text", STR_TEXT, TEXT_MAX, &s);
	if (rc)
		return rc;
	l->p->text = (char *)s;
	rc = load_fields(l, root);
	if (!rc)
		rc = load_purposes(l, root);
	if (!rc)
		rc = load_services(l, root);
	if (!rc)
		rc = load_exceptions(l, root);
	if (!rc)
		rc = load_cookies(l, root);
	if (!rc)
		rc = load_retention(l, root);
	if (!rc)
		rc = load_statistics(l, root);
	return rc;
}

/* ---- public ---- */

cu_result cu_policy_load_buffer(const char *name, const char *buf, size_t len, cu_policy **out,
                                char *err, size_t errlen)
{
	struct loader l = {
	    .name = name ? name : "(policy)",
	    .err = err,
	    .errlen = errlen,
	};
	json_error_t jerr;
	json_t *root = NULL;
	char where[WHERE_BYTES];
	cu_result rc;

	assert(out);
	assert(buf || len == 0);
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (len > CU_POLICY_FILE_MAX) {
		rc = too_large(&l, len);
		goto out;
	}
	/* sodium_init picks the fastest BLAKE2b; the result is the same without it. */
	if (sodium_init() < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: libsodium failed to initialise", l.name);
		rc = CU_ERR_INTERNAL;
		goto out;
	}
	root = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/*
		 * The parser could not allocate: not a fault of the file's.  When
		 * its very first allocation fails jansson (2.14) returns without
		 * any error text at all, so that is out of memory too.
		 */
		if (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0]) {
			rc = nomem(&l);
			goto out;
		}
		snprintf(where, sizeof(where), "line %d, column %d", jerr.line, jerr.column);
		rc = fail(&l, where, "invalid JSON: %s", jerr.text);
		goto out;
	}
	l.p = arena_alloc(&l.arena, sizeof(*l.p));
	if (!l.p) {
		rc = nomem(&l);
		goto out;
	}
	rc = load_root(&l, root);
	if (rc)
		goto out;
	crypto_generichash(l.p->digest, sizeof(l.p->digest), (const unsigned char *)buf, len, NULL,
	                   0);
	l.p->priv_ = l.arena;
	*out = l.p;
	l.arena = NULL;
out:
	json_decref(root);
	arena_free(l.arena);
	return rc;
}

cu_result cu_policy_load_file(const char *path, cu_policy **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	cu_result rc;

	assert(out);
	*out = NULL;
	if (!path) {
		if (err && errlen)
			snprintf(err, errlen, "(policy): no file name given");
		return CU_ERR_INVALID_ARGUMENT;
	}
	buf = cu_file_read_bounded(path, CU_POLICY_FILE_MAX, &len);
	if (!buf) {
		int e = errno;

		if (e == EFBIG) {
			struct loader l = {.name = path, .err = err, .errlen = errlen};

			/* What the loader says of a file one byte over the limit. */
			return too_large(&l, (size_t)CU_POLICY_FILE_MAX + 1);
		}
		if (e == ENOMEM) {
			if (err && errlen)
				snprintf(err, errlen, "%s: out of memory", path);
			return CU_ERR_NOMEM;
		}
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot %s: %s", path,
			         e == EIO || e == EISDIR ? "read" : "open", strerror(e));
		return CU_ERR_IO;
	}
	rc = cu_policy_load_buffer(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

void cu_policy_free(cu_policy *policy)
{
	/* The policy lives in its own arena: read the head before freeing. */
	if (policy)
		arena_free(policy->priv_);
}

int cu_policy_field_index(const cu_policy *p, const char *name)
{
	if (!p || !name)
		return -1;
	for (size_t i = 0; i < p->nfields; i++)
		if (strcmp(p->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

const cu_policy_field *cu_policy_field_find(const cu_policy *p, const char *name)
{
	int i = cu_policy_field_index(p, name);

	return i < 0 ? NULL : &p->fields[i];
}

const cu_policy_purpose *cu_policy_purpose_find(const cu_policy *p, const char *id)
{
	if (!p || !id)
		return NULL;
	for (size_t i = 0; i < p->npurposes; i++)
		if (strcmp(p->purposes[i].id, id) == 0)
			return &p->purposes[i];
	return NULL;
}

const cu_policy_service *cu_policy_service_find(const cu_policy *p, const char *id)
{
	if (!p || !id)
		return NULL;
	for (size_t i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].id, id) == 0)
			return &p->services[i];
	return NULL;
}

const cu_policy_exception *cu_policy_exception_find(const cu_policy *p, const char *id)
{
	if (!p || !id)
		return NULL;
	for (size_t i = 0; i < p->nexceptions; i++)
		if (strcmp(p->exceptions[i].id, id) == 0)
			return &p->exceptions[i];
	return NULL;
}

cu_fieldset cu_policy_all_fields(const cu_policy *p)
{
	if (!p || p->nfields == 0)
		return 0;
	if (p->nfields >= CU_POLICY_FIELDS_MAX)
		return ~(cu_fieldset)0;
	return ((cu_fieldset)1 << p->nfields) - 1;
}

/*
 * Reports the file's grant only.  The operator role (the `custodian` command
 * on the host) is granted every purpose by the access module, not here, so
 * that a policy file can neither lock the operator out nor be read as
 * granting the operator anything it names.
 */
bool cu_policy_purpose_allows_role(const cu_policy_purpose *purpose, cu_role role)
{
	if (!purpose || (int)role < 0 || role >= CU_ROLE_COUNT_)
		return false;
	return (purpose->roles >> role) & 1u;
}

size_t cu_policy_fieldset_format(const cu_policy *p, cu_fieldset set, char *buf, size_t buflen)
{
	size_t pos = 0;

	for (size_t i = 0; p && i < p->nfields; i++) {
		const char *s;

		if (!(set & ((cu_fieldset)1 << i)))
			continue;
		for (s = pos ? "," : ""; *s; s++, pos++)
			if (pos + 1 < buflen)
				buf[pos] = *s;
		for (s = p->fields[i].name; *s; s++, pos++)
			if (pos + 1 < buflen)
				buf[pos] = *s;
	}
	if (buflen)
		buf[pos < buflen ? pos : buflen - 1] = '\0';
	return pos;
}
