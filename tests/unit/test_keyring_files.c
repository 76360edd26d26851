/*
 * test_keyring_files.c — keyring files (src/vault/keyring.h) that must be
 * refused, built by hand through the sealed-note format:
 *   "CUKR" | 1 | sealed note (context "keyring") of
 *   generation | current | next id | trees | per tree: id | path key | nodes |
 *   per node: depth | prefix(8) | key(32)
 * and the keyring's own refusals: its limit of trees, dropping a tree it
 * does not hold or the current one, resealing under a new master key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "support.h"
#include "vault/keyring.h"
#include "vault/vault.h"

#define HEX1   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX2   "2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110"
#define MEMBER "Zm9vYmFyYmF6cXV4cXV1eA"

struct fx {
	char *dir;
	char path[PATH_MAX];
	cu_vault *v;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];

	if (!f)
		return -1;
	f->dir = cu_test_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, CU_KEYRING_FILE);
	if (cu_vault_open_text("1 " HEX1 "\n", &f->v, err, sizeof(err)))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_vault_free(f->v);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

/* A plaintext under construction. */
struct pt {
	unsigned char b[4096];
	size_t n;
};

static void put32(struct pt *p, uint32_t x)
{
	p->b[p->n++] = (unsigned char)(x >> 24);
	p->b[p->n++] = (unsigned char)(x >> 16);
	p->b[p->n++] = (unsigned char)(x >> 8);
	p->b[p->n++] = (unsigned char)x;
}

static void top(struct pt *p, uint32_t current, uint32_t ntrees)
{
	put32(p, 1);       /* generation */
	put32(p, current); /* current tree */
	put32(p, 100);     /* next id */
	put32(p, ntrees);
}

static void tree(struct pt *p, uint32_t id, uint32_t nodes)
{
	put32(p, id);
	memset(p->b + p->n, 0x5a, 32); /* path key */
	p->n += 32;
	put32(p, nodes);
}

static void node(struct pt *p, uint8_t depth, uint64_t prefix)
{
	p->b[p->n++] = depth;
	for (int b = 0; b < 8; b++)
		p->b[p->n++] = (unsigned char)(prefix >> (56 - 8 * b));
	memset(p->b + p->n, 0xa5, 32);
	p->n += 32;
}

/* Seals the plaintext under v as the keyring file at path (mode 0600). */
static void write_keyring(const cu_vault *v, const char *path, const struct pt *p)
{
	unsigned char *buf = malloc(5 + CU_VAULT_NOTE_OVERHEAD + p->n);
	FILE *fp;

	assert_non_null(buf);
	memcpy(buf, "CUKR\1", 5);
	assert_int_equal(cu_vault_seal_note(v, "keyring", p->b, p->n, buf + 5), CU_OK);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, 5 + CU_VAULT_NOTE_OVERHEAD + p->n, fp),
	                 5 + CU_VAULT_NOTE_OVERHEAD + p->n);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
	free(buf);
}

static void refused(struct fx *f, cu_result want, const char *why)
{
	cu_keyring *r = (cu_keyring *)1;
	char err[512] = "";

	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), want);
	assert_null(r);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void refused_pt(struct fx *f, const struct pt *p, const char *why)
{
	write_keyring(f->v, f->path, p);
	refused(f, CU_ERR_CRYPTO, why);
}

static void test_contents_refused_for_each_reason(void **state)
{
	struct fx *f = *state;
	struct pt p;

	memset(&p, 0, sizeof(p));
	put32(&p, 1);
	refused_pt(f, &p, "too short");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 0);
	refused_pt(f, &p, "bad number of trees");
	memset(&p, 0, sizeof(p));
	top(&p, 5, CU_KEYRING_TREES_MAX + 1);
	refused_pt(f, &p, "bad number of trees");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 2);
	tree(&p, 5, 0);
	refused_pt(f, &p, "truncated tree");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 0, 0);
	refused_pt(f, &p, "bad tree id");
	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 2147483648u, 0);
	refused_pt(f, &p, "bad tree id");
	memset(&p, 0, sizeof(p));
	top(&p, 5, 2);
	tree(&p, 5, 0);
	tree(&p, 5, 0);
	refused_pt(f, &p, "bad tree id");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 3);
	node(&p, 0, 0);
	refused_pt(f, &p, "truncated nodes");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 1);
	node(&p, CU_KEYRING_DEPTH + 1, 0);
	refused_pt(f, &p, "bad node");
	/* A prefix with bits below its depth. */
	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 1);
	node(&p, 1, 0x4000000000000000ull);
	refused_pt(f, &p, "bad node");

	/* Nodes must be sorted ... */
	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 2);
	node(&p, 1, 0x8000000000000000ull);
	node(&p, 1, 0);
	refused_pt(f, &p, "nodes out of order");
	/* ... and disjoint: the root covers every other node. */
	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 2);
	node(&p, 1, 0);
	node(&p, 2, 0x4000000000000000ull);
	refused_pt(f, &p, "nodes out of order");

	memset(&p, 0, sizeof(p));
	top(&p, 5, 1);
	tree(&p, 5, 1);
	node(&p, 0, 0);
	p.b[p.n++] = 0;
	refused_pt(f, &p, "trailing bytes");

	memset(&p, 0, sizeof(p));
	top(&p, 6, 1);
	tree(&p, 5, 1);
	node(&p, 0, 0);
	refused_pt(f, &p, "current tree missing");
}

/* The same builder makes a file that opens, so the refusals above are the contents'. */
static void test_hand_built_file_opens(void **state)
{
	struct fx *f = *state;
	cu_keyring_tree_info info[CU_KEYRING_TREES_MAX];
	unsigned char kek[CU_VAULT_KEYBYTES];
	uint32_t sealed = 0, gen = 0;
	cu_keyring *r = NULL;
	char err[256];
	struct pt p;

	memset(&p, 0, sizeof(p));
	top(&p, 7, 2);
	tree(&p, 5, 2);
	node(&p, 1, 0);
	node(&p, 1, 0x8000000000000000ull);
	tree(&p, 7, 0); /* every leaf punctured */
	write_keyring(f->v, f->path, &p);
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &r, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_current_tree(r), 7);
	assert_int_equal(cu_keyring_trees(r, info, CU_KEYRING_TREES_MAX), 2);
	assert_int_equal(info[0].id, 5);
	assert_false(info[0].current);
	assert_int_equal(info[0].nodes, 2);
	assert_true(info[1].current);
	cu_keyring_file_info(r, &sealed, &gen);
	assert_int_equal(sealed, 1);
	assert_int_equal(gen, 1);
	assert_int_equal(cu_keyring_member_kek(r, 5, MEMBER, kek), CU_OK);
	assert_int_equal(cu_keyring_member_kek(r, 7, MEMBER, kek), CU_ERR_ERASED);
	assert_true(cu_keyring_punctured(r, 7, MEMBER));
	assert_false(cu_keyring_punctured(r, 5, MEMBER));
	assert_false(cu_keyring_punctured(r, 99, MEMBER));
	assert_int_equal(cu_keyring_member_kek(r, 99, MEMBER, kek), CU_ERR_NOT_FOUND);
	cu_keyring_free(r);
}

static void test_file_refused_for_each_reason(void **state)
{
	struct fx *f = *state;
	cu_keyring *r = NULL;
	char err[512], other_path[PATH_MAX];
	unsigned char buf[512];
	cu_vault *other = NULL;
	size_t n;
	FILE *fp;

	/* Missing, and not to be created. */
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &r, err, sizeof(err)),
	                 CU_ERR_NOT_FOUND);
	assert_null(r);
	assert_non_null(strstr(err, "cannot open keyring"));
	assert_int_equal(access(f->path, F_OK), -1);

	/* A directory. */
	assert_int_equal(mkdir(f->path, 0700), 0);
	refused(f, CU_ERR_IO, "is not a regular file");
	assert_int_equal(rmdir(f->path), 0);

	/* A real one, then spoilt in each way. */
	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	cu_keyring_free(r);
	fp = fopen(f->path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_true(n > 5 + CU_VAULT_NOTE_OVERHEAD);

	assert_int_equal(chmod(f->path, 0640), 0);
	refused(f, CU_ERR_CRYPTO, "has mode 0640");
	assert_int_equal(chmod(f->path, 0600), 0);

	assert_int_equal(truncate(f->path, 5 + CU_VAULT_NOTE_OVERHEAD - 1), 0);
	refused(f, CU_ERR_CRYPTO, "impossible size");

	buf[0] = 'X';
	fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
	refused(f, CU_ERR_CRYPTO, "not a keyring of this version");
	buf[0] = 'C';
	buf[4] = 2;
	fp = fopen(f->path, "wb");
	fwrite(buf, 1, n, fp);
	fclose(fp);
	refused(f, CU_ERR_CRYPTO, "not a keyring of this version");
	buf[4] = 1;

	/* Truncated inside the sealed note, or one byte altered: it does not open. */
	fp = fopen(f->path, "wb");
	fwrite(buf, 1, n - 1, fp);
	fclose(fp);
	refused(f, CU_ERR_CRYPTO, "does not open with the master keys loaded");
	buf[n / 2] ^= 1;
	fp = fopen(f->path, "wb");
	fwrite(buf, 1, n, fp);
	fclose(fp);
	refused(f, CU_ERR_CRYPTO, "does not open with the master keys loaded");
	buf[n / 2] ^= 1;
	fp = fopen(f->path, "wb");
	fwrite(buf, 1, n, fp);
	fclose(fp);

	/* Another master key, even with the same id. */
	assert_int_equal(cu_vault_open_text("1 " HEX2 "\n", &other, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_open(other, f->path, true, &r, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_null(r);
	cu_vault_free(other);
	/* The intact file still opens. */
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &r, err, sizeof(err)), CU_OK);
	cu_keyring_free(r);

	/* Arguments. */
	assert_int_equal(cu_keyring_open(NULL, f->path, true, &r, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_open(f->v, NULL, true, &r, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	memset(other_path, 'a', sizeof(other_path) - 1);
	other_path[sizeof(other_path) - 1] = '\0';
	assert_int_equal(cu_keyring_open(f->v, other_path, true, &r, NULL, 0),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_null(r);
}

static void test_lock_that_cannot_be_taken(void **state)
{
	struct fx *f = *state;
	char lock[PATH_MAX + 8], err[512];
	const char *ids[] = {MEMBER};
	cu_keyring *r = NULL;
	uint32_t id = 0;

	/* A directory where the lock file goes: neither create nor change. */
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_int_equal(mkdir(lock, 0700), 0);
	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot lock"));
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(rmdir(lock), 0);
	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(mkdir(lock, 0700), 0);
	assert_int_equal(cu_keyring_puncture(r, ids, 1, NULL, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot lock"));
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_ERR_IO);
	assert_false(cu_keyring_punctured(r, cu_keyring_current_tree(r), MEMBER));
	assert_int_equal(rmdir(lock), 0);
	cu_keyring_free(r);
}

static void test_writer_arguments(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {MEMBER, ""}, *null_ids[] = {NULL};
	unsigned char kek[CU_VAULT_KEYBYTES];
	cu_keyring *r = NULL;
	size_t changed = 9;
	uint32_t id = 0, gen0 = 0, gen1 = 0;
	char err[256];

	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	cu_keyring_file_info(r, NULL, &gen0);
	assert_int_equal(cu_keyring_puncture(NULL, ids, 1, &changed, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(changed, 0);
	assert_int_equal(cu_keyring_puncture(r, NULL, 1, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_puncture(r, ids, 2, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_puncture(r, null_ids, 1, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Nothing to puncture: nothing written. */
	assert_int_equal(cu_keyring_puncture(r, NULL, 0, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 0);
	cu_keyring_file_info(r, NULL, &gen1);
	assert_int_equal(gen1, gen0);
	/* A second puncture of the same member changes nothing and writes nothing. */
	assert_int_equal(cu_keyring_puncture(r, ids, 1, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(cu_keyring_puncture(r, ids, 1, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 0);
	cu_keyring_file_info(r, NULL, &gen1);
	assert_int_equal(gen1, gen0 + 1);

	assert_int_equal(cu_keyring_member_kek(NULL, 1, MEMBER, kek), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_member_kek(r, 1, NULL, kek), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_member_kek(r, 1, MEMBER, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_false(cu_keyring_punctured(NULL, 1, MEMBER));
	assert_false(cu_keyring_punctured(r, cu_keyring_current_tree(r), NULL));
	assert_int_equal(cu_keyring_add_tree(NULL, &id, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_add_tree(r, NULL, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_drop_tree(NULL, 1, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_reseal(NULL, f->v, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_keyring_reseal(r, NULL, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	cu_keyring_free(r);
	cu_keyring_free(NULL);
}

static void test_tree_limit_and_drop(void **state)
{
	struct fx *f = *state;
	cu_keyring_tree_info info[CU_KEYRING_TREES_MAX];
	uint32_t ids[CU_KEYRING_TREES_MAX], id = 0, first;
	cu_keyring *r = NULL, *other = NULL;
	char err[256];

	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	first = cu_keyring_current_tree(r);
	/* A tree's id is above every master key id. */
	assert_true(first > 1);
	ids[0] = first;
	for (int i = 1; i < CU_KEYRING_TREES_MAX; i++) {
		assert_int_equal(cu_keyring_add_tree(r, &ids[i], err, sizeof(err)), CU_OK);
		assert_true(ids[i] > ids[i - 1]);
	}
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "holds 8 trees already"));
	assert_int_equal(id, 0);
	assert_int_equal(cu_keyring_trees(r, info, 2), CU_KEYRING_TREES_MAX);
	assert_int_equal(info[0].id, first);

	/* Not a tree of this keyring, or the current one: a conflict, nothing changed. */
	assert_int_equal(cu_keyring_drop_tree(r, 12345, err, sizeof(err)), CU_ERR_CONFLICT);
	assert_string_equal(err, "no tree 12345 in the keyring");
	assert_int_equal(cu_keyring_drop_tree(r, ids[CU_KEYRING_TREES_MAX - 1], err, sizeof(err)),
	                 CU_ERR_CONFLICT);
	assert_non_null(strstr(err, "is the current one"));
	assert_int_equal(cu_keyring_trees(r, info, CU_KEYRING_TREES_MAX), CU_KEYRING_TREES_MAX);

	/* Dropping a middle tree keeps the others in order, and frees a place. */
	assert_int_equal(cu_keyring_drop_tree(r, ids[3], err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_trees(r, info, CU_KEYRING_TREES_MAX), CU_KEYRING_TREES_MAX - 1);
	assert_int_equal(info[2].id, ids[2]);
	assert_int_equal(info[3].id, ids[4]);
	/* Another handle on the file sees it on its next look. */
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &other, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_OK);
	assert_true(id > ids[CU_KEYRING_TREES_MAX - 1]);
	assert_int_equal(cu_keyring_current_tree(other), id);
	cu_keyring_free(other);
	cu_keyring_free(r);
}

static void test_reseal(void **state)
{
	struct fx *f = *state;
	cu_vault *both = NULL, *newkey = NULL;
	cu_keyring *r = NULL, *r2 = NULL;
	unsigned char kek1[CU_VAULT_KEYBYTES], kek2[CU_VAULT_KEYBYTES];
	uint32_t sealed = 0, tree;
	char err[256];

	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	tree = cu_keyring_current_tree(r);
	assert_int_equal(cu_keyring_member_kek(r, tree, MEMBER, kek1), CU_OK);
	assert_int_equal(cu_vault_open_text("1 " HEX1 "\n2 " HEX2 "\n", &both, err, sizeof(err)),
	                 CU_OK);
	assert_int_equal(cu_vault_open_text("2 " HEX2 "\n", &newkey, err, sizeof(err)), CU_OK);
	/* Before: only the old key opens it. */
	assert_int_equal(cu_keyring_open(newkey, f->path, false, &r2, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_int_equal(cu_keyring_reseal(r, both, err, sizeof(err)), CU_OK);
	cu_keyring_file_info(r, &sealed, NULL);
	assert_int_equal(sealed, 2);
	/* After: the new key alone opens it, the old alone no longer, the leaves are the same. */
	assert_int_equal(cu_keyring_open(newkey, f->path, false, &r2, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_member_kek(r2, tree, MEMBER, kek2), CU_OK);
	assert_memory_equal(kek1, kek2, sizeof(kek1));
	cu_keyring_free(r2);
	r2 = NULL;
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &r2, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_null(r2);
	cu_keyring_free(r);
	cu_vault_free(both);
	cu_vault_free(newkey);
}

/* A new tree's id is above every tree and every master key, whatever next id the file says. */
static void test_new_tree_id_above_everything(void **state)
{
	struct fx *f = *state;
	cu_keyring *r = NULL;
	uint32_t id = 0;
	char err[256];
	struct pt p;

	memset(&p, 0, sizeof(p));
	put32(&p, 1); /* generation */
	put32(&p, 5); /* current */
	put32(&p, 1); /* next id: behind both the tree and master key 1 */
	put32(&p, 1);
	tree(&p, 5, 1);
	node(&p, 0, 0);
	write_keyring(f->v, f->path, &p);
	assert_int_equal(cu_keyring_open(f->v, f->path, false, &r, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_OK);
	assert_int_equal(id, 6);
	assert_int_equal(cu_keyring_current_tree(r), 6);
	cu_keyring_free(r);
}

/* The file spoilt under an open keyring: a writer re-reads it first and changes nothing. */
static void test_writer_refuses_a_file_spoilt_since_open(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {MEMBER};
	cu_keyring *r = NULL;
	uint32_t tree, id = 0;
	char err[512];
	FILE *fp;
	int c;

	assert_int_equal(cu_keyring_open(f->v, f->path, true, &r, err, sizeof(err)), CU_OK);
	tree = cu_keyring_current_tree(r);
	fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 60, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_not_equal(c, EOF);
	assert_int_equal(fseek(fp, 60, SEEK_SET), 0);
	fputc(c ^ 1, fp); /* flipped, not overwritten: byte 60 may already hold any value */
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cu_keyring_puncture(r, ids, 1, NULL, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "does not open with the master keys loaded"));
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_int_equal(id, 0);
	/* What it held in memory still answers, unchanged. */
	assert_false(cu_keyring_punctured(r, tree, MEMBER));
	assert_int_equal(cu_keyring_current_tree(r), tree);
	cu_keyring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_contents_refused_for_each_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hand_built_file_opens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refused_for_each_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_that_cannot_be_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tree_limit_and_drop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reseal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_tree_id_above_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_refuses_a_file_spoilt_since_open, setup,
	                                    teardown),
	};

	unsetenv("CUSTODIAN_MASTER_KEY");
	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
