/*
 * src/access/policy_version.c — published policy versions read back, cached, and the
 * version a member accepted (policy_version.h).
 */
#include "access/policy_version.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX 64
/* The loader's message about a stored version (a policy read from a file gets CU_ERR_MSG_MAX). */
#define LOAD_ERR_BYTES 256

static struct {
	pthread_mutex_t mu;
	size_t n;
	cu_policy *p[CACHE_MAX];
} cache = {PTHREAD_MUTEX_INITIALIZER, 0, {NULL}};

static const cu_policy *cached(const char *version)
{
	const cu_policy *found = NULL;

	pthread_mutex_lock(&cache.mu);
	for (size_t i = 0; i < cache.n && !found; i++)
		if (!strcmp(cache.p[i]->version, version))
			found = cache.p[i];
	pthread_mutex_unlock(&cache.mu);
	return found;
}

/* Keeps p (taking ownership) unless the cache is full or has it already. */
static const cu_policy *keep(cu_policy *p)
{
	const cu_policy *have;

	pthread_mutex_lock(&cache.mu);
	have = NULL;
	for (size_t i = 0; i < cache.n && !have; i++)
		if (!strcmp(cache.p[i]->version, p->version))
			have = cache.p[i];
	if (!have && cache.n < CACHE_MAX) {
		cache.p[cache.n++] = p;
		have = p;
		p = NULL;
	}
	pthread_mutex_unlock(&cache.mu);
	/* Full: a policy this process has seen 64 versions of is served uncached, and leaks nothing. */
	if (p && !have) {
		cu_policy_free(p);
		return NULL;
	}
	cu_policy_free(p);
	return have;
}

cu_result cu_versions_get(cu_store *s, const char *version, const cu_policy **out)
{
	char err[LOAD_ERR_BYTES], *doc = NULL;
	cu_policy *p = NULL;
	size_t len = 0;
	cu_result rc;

	*out = cached(version);
	if (*out)
		return CU_OK;
	rc = cu_store_policy_get(s, version, &doc, &len, NULL);
	if (rc)
		return rc;
	rc = cu_policy_load_buffer(version, doc, len, &p, err, sizeof(err));
	free(doc);
	if (rc)
		return CU_ERR_STORE; /* a stored version that no longer loads is damage */
	*out = keep(p);
	return *out ? CU_OK : CU_ERR_NOMEM;
}

static int take_first(void *ud, const char *version, int64_t published_us, const char *by)
{
	(void)published_us;
	(void)by;
	snprintf(ud, CU_VERSION_MAX + 1, "%s", version);
	return 1;
}

/*
 * Registered before any version was recorded (a store older than versions,
 * or a clock set back): held to the earliest version known, never to
 * whatever is in force now, which may have added purposes since.
 */
static cu_result earliest(cu_store *s, char version[CU_VERSION_MAX + 1])
{
	cu_result rc;

	version[0] = '\0';
	rc = cu_store_policy_list(s, take_first, version);
	return rc ? rc : version[0] ? CU_OK : CU_ERR_NOT_FOUND;
}

cu_result cu_versions_accepted(cu_store *s, const char *member, int64_t registered_us,
                               char version[CU_VERSION_MAX + 1])
{
	cu_result rc = cu_store_accepted_get(s, member, version, NULL);

	if (rc != CU_ERR_NOT_FOUND)
		return rc;
	rc = cu_store_policy_at(s, registered_us, version);
	return rc != CU_ERR_NOT_FOUND ? rc : earliest(s, version);
}

cu_result cu_versions_accepted_of(cu_store *s, const cu_member_context *mc,
                                  char version[CU_VERSION_MAX + 1])
{
	const char *known = mc->accepted[0] ? mc->accepted : mc->at_registration;

	if (!known[0])
		return earliest(s, version);
	snprintf(version, CU_VERSION_MAX + 1, "%s", known);
	return CU_OK;
}
