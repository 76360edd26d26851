/*
 * src/vault/record.c — pack and parse a member's sealed fields (see record.h).
 */
#include "vault/record.h"

#include <string.h>

static const unsigned char magic[4] = {'C', 'U', 'R', '1'};

size_t cu_record_packed_size(const cu_record_entry *e, size_t n)
{
	size_t sz = sizeof(magic) + 2;

	for (size_t i = 0; i < n; i++)
		sz += 1 + e[i].name_len + 4 + e[i].sealed_len;
	return sz;
}

void cu_record_pack(const cu_record_entry *e, size_t n, unsigned char *out)
{
	unsigned char *p = out;

	memcpy(p, magic, sizeof(magic));
	p += sizeof(magic);
	*p++ = (unsigned char)(n & 0xff);
	*p++ = (unsigned char)(n >> 8);
	for (size_t i = 0; i < n; i++) {
		uint32_t sl = (uint32_t)e[i].sealed_len;

		*p++ = (unsigned char)e[i].name_len;
		memcpy(p, e[i].name, e[i].name_len);
		p += e[i].name_len;
		for (int b = 0; b < 4; b++)
			*p++ = (unsigned char)(sl >> (8 * b));
		memcpy(p, e[i].sealed, e[i].sealed_len);
		p += e[i].sealed_len;
	}
}

cu_result cu_record_parse(const unsigned char *buf, size_t len, cu_record_entry *e, size_t max,
                          size_t *n)
{
	const unsigned char *p = buf, *end = buf + len;
	size_t count;

	*n = 0;
	if (len < sizeof(magic) + 2 || memcmp(p, magic, sizeof(magic)) != 0)
		return CU_ERR_STORE;
	p += sizeof(magic);
	count = (size_t)p[0] | (size_t)p[1] << 8;
	p += 2;
	if (count > max)
		return CU_ERR_STORE;
	for (size_t i = 0; i < count; i++) {
		size_t nl, sl;

		if (end - p < 1)
			return CU_ERR_STORE;
		nl = *p++;
		if (nl == 0 || (size_t)(end - p) < nl + 4)
			return CU_ERR_STORE;
		e[i].name = (const char *)p;
		e[i].name_len = nl;
		p += nl;
		sl = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
		p += 4;
		if ((size_t)(end - p) < sl)
			return CU_ERR_STORE;
		e[i].sealed = p;
		e[i].sealed_len = sl;
		p += sl;
	}
	if (p != end)
		return CU_ERR_STORE;
	*n = count;
	return CU_OK;
}
