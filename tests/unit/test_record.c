/*
 * test_record.c — the packed record of sealed fields (src/vault/record.h).
 *
 * The parser reads bytes from the store, which an attacker with the database
 * file controls: it must reject every malformed or truncated record and never
 * read outside the buffer.  Buffers handed to the parser are heap copies of
 * exactly the parsed length, so an over-read shows up under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/record.h"

#define NSAMPLE 12

struct sample {
	char names[NSAMPLE][48];
	unsigned char sealed[NSAMPLE][96];
	cu_record_entry e[NSAMPLE];
};

/* n entries with distinct names and sealed bytes of varied lengths (one empty). */
static void sample_fill(struct sample *s, size_t n)
{
	assert_true(n <= NSAMPLE);
	for (size_t i = 0; i < n; i++) {
		size_t sl = i == 3 ? 0 : (i * 7 + 5) % sizeof(s->sealed[i]);

		snprintf(s->names[i], sizeof(s->names[i]), "field_%zu", i);
		for (size_t b = 0; b < sl; b++)
			s->sealed[i][b] = (unsigned char)(i * 31 + b * 17);
		s->e[i].name = s->names[i];
		s->e[i].name_len = strlen(s->names[i]);
		s->e[i].sealed = s->sealed[i];
		s->e[i].sealed_len = sl;
	}
}

/* A heap copy of exactly len bytes (at least one byte is allocated). */
static unsigned char *dup_exact(const unsigned char *src, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

static unsigned char *pack_sample(const struct sample *s, size_t n, size_t *len)
{
	unsigned char *buf;

	*len = cu_record_packed_size(s->e, n);
	buf = malloc(*len);
	assert_non_null(buf);
	cu_record_pack(s->e, n, buf);
	return buf;
}

static void round_trip(size_t n)
{
	struct sample s;
	cu_record_entry out[NSAMPLE];
	size_t len, got = 99;
	unsigned char *buf;

	sample_fill(&s, n);
	buf = pack_sample(&s, n, &len);
	assert_memory_equal(buf, "CUR1", 4);
	assert_int_equal(buf[4] | buf[5] << 8, n);
	assert_int_equal(cu_record_parse(buf, len, out, NSAMPLE, &got), CU_OK);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].name_len, s.e[i].name_len);
		assert_memory_equal(out[i].name, s.e[i].name, s.e[i].name_len);
		assert_int_equal(out[i].sealed_len, s.e[i].sealed_len);
		if (s.e[i].sealed_len)
			assert_memory_equal(out[i].sealed, s.e[i].sealed, s.e[i].sealed_len);
		/* Parsed entries point into the buffer, not into copies. */
		assert_true((const unsigned char *)out[i].name > buf);
		assert_true(out[i].sealed + out[i].sealed_len <= buf + len);
	}
	free(buf);
}

static void test_round_trip_empty(void **state)
{
	(void)state;
	round_trip(0);
	assert_int_equal(cu_record_packed_size(NULL, 0), 6);
}

static void test_round_trip_one(void **state)
{
	(void)state;
	round_trip(1);
}

static void test_round_trip_twelve(void **state)
{
	(void)state;
	round_trip(12);
}

static void test_round_trip_large_value(void **state)
{
	size_t big = 70000; /* needs more than 16 bits of length */
	unsigned char *val = malloc(big), *buf;
	cu_record_entry e = {"address", 7, NULL, big}, out;
	size_t len, n = 0;

	(void)state;
	assert_non_null(val);
	for (size_t i = 0; i < big; i++)
		val[i] = (unsigned char)(i * 13);
	e.sealed = val;
	len = cu_record_packed_size(&e, 1);
	assert_int_equal(len, 6 + 1 + 7 + 4 + big);
	buf = malloc(len);
	assert_non_null(buf);
	cu_record_pack(&e, 1, buf);
	assert_int_equal(cu_record_parse(buf, len, &out, 1, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out.sealed_len, big);
	assert_memory_equal(out.sealed, val, big);
	free(buf);
	free(val);
}

static void test_every_truncation_rejected(void **state)
{
	size_t counts[] = {0, 1, 12};

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct sample s;
		cu_record_entry out[NSAMPLE];
		size_t len;
		unsigned char *buf;

		sample_fill(&s, counts[c]);
		buf = pack_sample(&s, counts[c], &len);
		for (size_t cut = 0; cut < len; cut++) {
			unsigned char *t = dup_exact(buf, cut);
			size_t n = 77;

			if (cu_record_parse(t, cut, out, NSAMPLE, &n) != CU_ERR_STORE)
				fail_msg("%zu entries: truncation to %zu of %zu bytes accepted",
				         counts[c], cut, len);
			assert_int_equal(n, 0);
			free(t);
		}
		free(buf);
	}
}

static void test_trailing_bytes_rejected(void **state)
{
	struct sample s;
	cu_record_entry out[NSAMPLE];
	size_t len, n = 5;
	unsigned char *buf, *longer;

	(void)state;
	sample_fill(&s, 3);
	buf = pack_sample(&s, 3, &len);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	longer[len] = 0;
	assert_int_equal(cu_record_parse(longer, len + 1, out, NSAMPLE, &n), CU_ERR_STORE);
	assert_int_equal(n, 0);
	free(longer);
	free(buf);
}

static void test_bad_magic_rejected(void **state)
{
	struct sample s;
	cu_record_entry out[NSAMPLE];
	size_t len, n;
	unsigned char *buf;

	(void)state;
	sample_fill(&s, 2);
	buf = pack_sample(&s, 2, &len);
	for (size_t i = 0; i < 4; i++) {
		unsigned char *t = dup_exact(buf, len);

		t[i] ^= 0x20; /* "cUR1", "CuR1", ... */
		n = 9;
		assert_int_equal(cu_record_parse(t, len, out, NSAMPLE, &n), CU_ERR_STORE);
		assert_int_equal(n, 0);
		free(t);
	}
	{
		unsigned char *t = dup_exact(buf, len);

		t[3] = '2'; /* a future version is not this version */
		assert_int_equal(cu_record_parse(t, len, out, NSAMPLE, &n), CU_ERR_STORE);
		free(t);
	}
	free(buf);
}

static void test_count_over_max_rejected(void **state)
{
	struct sample s;
	cu_record_entry out[NSAMPLE];
	size_t len, n = 3;
	unsigned char *buf;

	(void)state;
	sample_fill(&s, 12);
	buf = pack_sample(&s, 12, &len);
	assert_int_equal(cu_record_parse(buf, len, out, 11, &n), CU_ERR_STORE);
	assert_int_equal(n, 0);
	assert_int_equal(cu_record_parse(buf, len, out, 0, &n), CU_ERR_STORE);
	assert_int_equal(cu_record_parse(buf, len, out, 12, &n), CU_OK);
	assert_int_equal(n, 12);
	free(buf);

	/* A header claiming 65535 entries in six bytes. */
	{
		unsigned char hdr[6] = {'C', 'U', 'R', '1', 0xff, 0xff};

		assert_int_equal(cu_record_parse(hdr, sizeof(hdr), out, NSAMPLE, &n), CU_ERR_STORE);
		assert_int_equal(n, 0);
	}
}

static void test_malformed_entries_rejected(void **state)
{
	cu_record_entry out[4];
	size_t n;

	(void)state;
	/* A zero-length name. */
	{
		unsigned char r[] = {'C', 'U', 'R', '1', 1, 0, 0, 0, 0, 0, 0};

		assert_int_equal(cu_record_parse(r, sizeof(r), out, 4, &n), CU_ERR_STORE);
	}
	/* A sealed length of 2^32-1 in a short buffer (no wrap-around). */
	{
		unsigned char r[] = {'C', 'U',  'R',  '1',  1,    0, 1,
		                     'x', 0xff, 0xff, 0xff, 0xff, 1, 2};

		assert_int_equal(cu_record_parse(r, sizeof(r), out, 4, &n), CU_ERR_STORE);
	}
	/* A name running past the end. */
	{
		unsigned char r[] = {'C', 'U', 'R', '1', 1, 0, 200, 'n', 'a', 'm', 'e'};

		assert_int_equal(cu_record_parse(r, sizeof(r), out, 4, &n), CU_ERR_STORE);
	}
	/* Fewer entries than the count says. */
	{
		unsigned char r[] = {'C', 'U', 'R', '1', 2, 0, 1, 'x', 1, 0, 0, 0, 9};

		assert_int_equal(cu_record_parse(r, sizeof(r), out, 4, &n), CU_ERR_STORE);
		r[4] = 1;
		assert_int_equal(cu_record_parse(r, sizeof(r), out, 4, &n), CU_OK);
		assert_int_equal(n, 1);
		assert_int_equal(out[0].sealed_len, 1);
		assert_int_equal(out[0].sealed[0], 9);
	}
}

/* xorshift64*: deterministic, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void test_random_mutations(void **state)
{
	struct sample s;
	cu_record_entry out[NSAMPLE];
	size_t len, accepted = 0, rejected = 0;
	unsigned char *orig;

	(void)state;
	sample_fill(&s, 5);
	orig = pack_sample(&s, 5, &len);
	for (int iter = 0; iter < 100000; iter++) {
		size_t mlen = len;
		unsigned char *t, *again;
		size_t n = 1234, nmut = 1 + rnd() % 4;
		cu_result rc;

		/* Now and then shorten or lengthen the buffer too. */
		if (rnd() % 8 == 0)
			mlen = (size_t)(rnd() % (len + 16));
		t = malloc(mlen ? mlen : 1);
		assert_non_null(t);
		for (size_t i = 0; i < mlen; i++)
			t[i] = i < len ? orig[i] : (unsigned char)rnd();
		for (size_t m = 0; m < nmut && mlen; m++) {
			size_t at = (size_t)(rnd() % mlen);

			/* Bias towards the header and length bytes, where bugs live. */
			if (rnd() % 2)
				at = (size_t)(rnd() % (mlen < 24 ? mlen : 24));
			t[at] = (unsigned char)rnd();
		}
		rc = cu_record_parse(t, mlen, out, NSAMPLE, &n);
		if (rc != CU_OK) {
			assert_int_equal(rc, CU_ERR_STORE);
			assert_int_equal(n, 0);
			rejected++;
			free(t);
			continue;
		}
		accepted++;
		assert_true(n <= NSAMPLE);
		for (size_t i = 0; i < n; i++) {
			const unsigned char *nm = (const unsigned char *)out[i].name;

			assert_true(out[i].name_len >= 1);
			assert_true(nm >= t + 6 && nm + out[i].name_len <= t + mlen);
			assert_true(out[i].sealed >= t + 6 &&
			            out[i].sealed + out[i].sealed_len <= t + mlen);
			assert_true(out[i].sealed >= nm + out[i].name_len + 4);
		}
		/* Consistent: the entries account for every byte and pack back to it. */
		assert_int_equal(cu_record_packed_size(out, n), mlen);
		again = malloc(mlen);
		assert_non_null(again);
		cu_record_pack(out, n, again);
		assert_memory_equal(again, t, mlen);
		free(again);
		free(t);
	}
	/* Both outcomes happen, or the mutations are not exercising the parser. */
	assert_true(accepted > 100);
	assert_true(rejected > 10000);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_empty),
	    cmocka_unit_test(test_round_trip_one),
	    cmocka_unit_test(test_round_trip_twelve),
	    cmocka_unit_test(test_round_trip_large_value),
	    cmocka_unit_test(test_every_truncation_rejected),
	    cmocka_unit_test(test_trailing_bytes_rejected),
	    cmocka_unit_test(test_bad_magic_rejected),
	    cmocka_unit_test(test_count_over_max_rejected),
	    cmocka_unit_test(test_malformed_entries_rejected),
	    cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
