/*
 * bench/bench_keyring.c — what the member key tree (src/vault/keyring.h) costs
 * a read: unwrapping a data key under a tree leaf (up to 64 HChaCha20 calls
 * from the nearest stored node, then XChaCha20-Poly1305) against unwrapping
 * one under the master key (XChaCha20-Poly1305 alone), in the same run — for
 * a hot set of members (1,024: their leaves stay in the keyring's cache) and
 * a cold one (131,072, eight times the cache); then the same after
 * CU_BENCH_KEYRING_ERASED punctures, and what a puncture costs (the keyring
 * file rewritten).
 *
 *   build/bench_keyring            (CU_BENCH_KEYRING_N unwraps per side, default 200000;
 *                                   CU_BENCH_KEYRING_ERASED punctures, default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench_util.h"
#include "vault/keyring.h"
#include "vault/vault.h"

#define MEMBERS 131072 /* the cold set; the hot set is the first HOT */
#define HOT     1024

static const char key_text[] =
    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

static double unwrap_rate(const cu_vault *v, char (*ids)[CU_ID_LEN + 1],
                          unsigned char (*wrapped)[CU_VAULT_WRAPPEDBYTES], const uint32_t *key,
                          unsigned long n, size_t set)
{
	cu_data_key dk;
	double t0 = bench_now(), t;

	for (unsigned long i = 0; i < n; i++) {
		size_t m = (i * 7919) % set; /* a stride, so the cold set is not read in order */

		if (cu_vault_unwrap(v, ids[m], key[m], wrapped[m], &dk)) {
			fprintf(stderr, "bench_keyring: an unwrap failed\n");
			exit(1);
		}
	}
	t = bench_now() - t0;
	cu_vault_data_key_wipe(&dk);
	return (double)n / t;
}

static void wrap_all(const cu_vault *v, char (*ids)[CU_ID_LEN + 1],
                     unsigned char (*wrapped)[CU_VAULT_WRAPPEDBYTES], uint32_t *key)
{
	cu_data_key dk;

	for (size_t m = 0; m < MEMBERS; m++) {
		cu_vault_data_key_new(&dk);
		if (cu_vault_wrap(v, ids[m], &dk, wrapped[m], &key[m])) {
			fprintf(stderr, "bench_keyring: a wrap failed\n");
			exit(1);
		}
	}
	cu_vault_data_key_wipe(&dk);
}

int main(void)
{
	unsigned long n = bench_env("CU_BENCH_KEYRING_N", 200000, 1000, 100000000);
	unsigned long erased = bench_env("CU_BENCH_KEYRING_ERASED", 10000, 1, 1000000);
	char dir[] = "/tmp/cu-bench-keyring-XXXXXX", path[sizeof(dir) + 16], err[256];
	char(*ids)[CU_ID_LEN + 1] = calloc(MEMBERS, sizeof(*ids));
	char(*gone)[CU_ID_LEN + 1] = calloc(erased, sizeof(*gone));
	const char **gone_p = calloc(erased, sizeof(*gone_p));
	unsigned char(*w1)[CU_VAULT_WRAPPEDBYTES] = calloc(MEMBERS, sizeof(*w1));
	unsigned char(*w2)[CU_VAULT_WRAPPEDBYTES] = calloc(MEMBERS, sizeof(*w2));
	uint32_t *k1 = calloc(MEMBERS, sizeof(*k1)), *k2 = calloc(MEMBERS, sizeof(*k2));
	cu_vault *master = NULL, *tree = NULL;
	cu_keyring *ring = NULL;
	double r1, r2, r3, t0, tp;

	if (!ids || !gone || !gone_p || !w1 || !w2 || !k1 || !k2 || cu_vault_global_init() ||
	    !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/keyring", dir);
	if (cu_vault_open_text(key_text, &master, err, sizeof(err)) ||
	    cu_vault_open_text(key_text, &tree, err, sizeof(err)) ||
	    cu_keyring_open(tree, path, true, &ring, err, sizeof(err)) ||
	    cu_vault_attach_keyring(tree, ring)) {
		fprintf(stderr, "bench_keyring: %s\n", err);
		return 1;
	}
	for (size_t m = 0; m < MEMBERS; m++)
		cu_vault_random_id(ids[m]);
	wrap_all(master, ids, w1, k1);
	wrap_all(tree, ids, w2, k2);

	printf("keyring: %lu unwraps per side; hot set %d members, cold set %d\n", n, HOT, MEMBERS);
	r1 = unwrap_rate(master, ids, w1, k1, n, MEMBERS);
	printf("  master-key unwrap (baseline)         %10.0f /s\n", r1);
	r2 = unwrap_rate(tree, ids, w2, k2, n, HOT);
	printf("  tree unwrap, hot, no erasure         %10.0f /s   ratio %.2f\n", r2, r2 / r1);
	r2 = unwrap_rate(tree, ids, w2, k2, n, MEMBERS);
	printf("  tree unwrap, cold, no erasure        %10.0f /s   ratio %.2f\n", r2, r2 / r1);

	for (unsigned long i = 0; i < erased; i++) {
		cu_vault_random_id(gone[i]);
		gone_p[i] = gone[i];
	}
	t0 = bench_now();
	if (cu_keyring_puncture(ring, gone_p, erased, NULL, err, sizeof(err))) {
		fprintf(stderr, "bench_keyring: %s\n", err);
		return 1;
	}
	tp = bench_now() - t0;
	r3 = unwrap_rate(tree, ids, w2, k2, n, MEMBERS);
	printf("  tree unwrap, cold, %6lu erased      %10.0f /s   ratio %.2f\n", erased, r3,
	       r3 / r1);
	{
		cu_keyring_tree_info info[CU_KEYRING_TREES_MAX];
		struct stat st;

		cu_keyring_trees(ring, info, CU_KEYRING_TREES_MAX);
		stat(path, &st);
		printf("  %lu punctures in one batch: %.3f s; keyring %zu nodes, file %lld bytes\n",
		       erased, tp, info[0].nodes, (long long)st.st_size);
	}
	{
		const char *one[1];
		char id[CU_ID_LEN + 1];

		cu_vault_random_id(id);
		one[0] = id;
		t0 = bench_now();
		if (cu_keyring_puncture(ring, one, 1, NULL, err, sizeof(err)))
			return 1;
		printf("  one more puncture (an erasure): %.1f ms\n", (bench_now() - t0) * 1000);
	}
	cu_vault_free(master);
	cu_vault_free(tree);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keyring.lock", dir);
	unlink(path);
	rmdir(dir);
	free(ids);
	free(gone);
	free(gone_p);
	free(w1);
	free(w2);
	free(k1);
	free(k2);
	return 0;
}
