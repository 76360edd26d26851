/*
 * bench_hash_baseline — the audit-verify benchmark's yardstick: BLAKE2b-256
 * (crypto_generichash, 32-byte output, no key) over the bytes that
 * verification hashes, and nothing else.
 *
 *     bench_hash_baseline N TOTAL_BYTES
 *
 * Hashes N buffers whose lengths add up to TOTAL_BYTES (the sum over the
 * audit table of cu_audit_hash's encoding: "cu-audit-v1" | prev | seq |
 * time | per text u32 length + bytes; see src/audit/audit.c).  Each buffer carries
 * the previous hash where the encoding carries prev, as a chain walk does,
 * so the calls cannot be reordered or skipped.  Prints the last hash.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

#define BUF_MAX 4096
#define PREV_AT 11 /* after the domain string */

int main(int argc, char **argv)
{
	static unsigned char buf[BUF_MAX];
	unsigned char h[crypto_generichash_BYTES] = {0};
	char hex[2 * sizeof(h) + 1];
	unsigned long long n, total, len, extra;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_hash_baseline N TOTAL_BYTES\n");
		return 2;
	}
	n = bench_arg("N", argv[1], 1, 1000000000ULL);
	total = bench_arg("TOTAL_BYTES", argv[2], n * (PREV_AT + sizeof(h)), n * BUF_MAX);
	if (sodium_init() < 0)
		return 1;
	len = total / n;
	extra = total % n; /* the first `extra` buffers are one byte longer */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(' ' + i % 95);
	for (unsigned long long i = 0; i < n; i++) {
		memcpy(buf + PREV_AT, h, sizeof(h));
		crypto_generichash(h, sizeof(h), buf, len + (i < extra), NULL, 0);
	}
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("%llu hashes, %llu bytes, last %s\n", n, total, hex);
	return 0;
}
