// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for kernel-patch/core/btf_reconcile.c. The input is three
 * BTF blobs (distilled base, split, target), each preceded by its length as
 * a little-endian u32; the core must refuse or relocate, never crash, read
 * out of bounds or hang. Allocation failures are injected now and then.
 */
#include "../core/btf_reconcile.h"

unsigned long shim_fail_alloc_at;
unsigned long shim_alloc_count;

void shim_log(const char *fmt, ...)
{
}

static const u8 *take(const u8 **p, size_t *left, u32 *len)
{
	const u8 *b;
	u32 n;

	if (*left < 4)
		return NULL;
	memcpy(&n, *p, 4);
	*p += 4;
	*left -= 4;
	if (n > *left)
		n = *left;
	b = *p;
	*p += n;
	*left -= n;
	*len = n;
	return b;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const u8 *p = data, *parts[3];
	size_t left = size;
	u32 len[3], *map = NULL, cnt = 0;
	void *copy[3];
	int i;

	for (i = 0; i < 3; i++) {
		parts[i] = take(&p, &left, &len[i]);
		if (!parts[i])
			return 0;
	}
	/* own, aligned copies: the kernel hands over kvmalloc'd buffers */
	for (i = 0; i < 3; i++) {
		copy[i] = malloc(len[i] ? len[i] : 1);
		memcpy(copy[i], parts[i], len[i]);
	}
	shim_alloc_count = 0;
	shim_fail_alloc_at = size % 7 == 3 ? 1 + size % 5 : 0;
	if (!btf_reconcile("fuzz", copy[0], len[0], copy[1], len[1], copy[2], len[2], &map, &cnt))
		kvfree(map);
	for (i = 0; i < 3; i++)
		free(copy[i]);
	return 0;
}
