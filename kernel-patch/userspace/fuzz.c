// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for kernel-patch/core/btf_reconcile.c. The input is three
 * BTF blobs (distilled base, split, target), each preceded by its length as
 * a little-endian u32; the core must refuse or relocate, never crash, read
 * out of bounds or unaligned, or hang, and a refusal must leave the split
 * as it was. Allocation failures are injected now and then.
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
	u32 len[3], off[3], *map = NULL, cnt = 0;
	u8 *copy[3], *saved;
	int i;

	for (i = 0; i < 3; i++) {
		parts[i] = take(&p, &left, &len[i]);
		if (!parts[i])
			return 0;
	}
	/*
	 * Own copies, as the kernel has them: the split and the target in
	 * kvmalloc'd buffers (aligned, but now and then a misaligned split,
	 * which must be refused untouched), the distilled base read in place
	 * from the module image at an odd address (UBSan's alignment check
	 * catches any direct read).
	 */
	for (i = 0; i < 3; i++) {
		off[i] = i == 0 ? 1 : i == 1 && size % 11 == 5 ? 2 : 0;
		copy[i] = malloc(len[i] + off[i] + 1);
		memcpy(copy[i] + off[i], parts[i], len[i]);
	}
	saved = malloc(len[1] + 1);
	memcpy(saved, parts[1], len[1]);
	shim_alloc_count = 0;
	shim_fail_alloc_at = size % 7 == 3 ? 1 + size % 5 : 0;
	if (!btf_reconcile("fuzz", copy[0] + off[0], len[0], copy[1] + off[1], len[1],
			   copy[2] + off[2], len[2], &map, &cnt))
		kvfree(map);
	else if (memcmp(saved, copy[1] + off[1], len[1]))
		abort();	/* a refusal must leave the split as it was */
	for (i = 0; i < 3; i++)
		free(copy[i]);
	free(saved);
	return 0;
}
