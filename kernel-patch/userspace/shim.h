/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces kernel-patch/core/btf_reconcile.c uses, for the
 * userspace build (force-included with -include; the headers under include/ are empty
 * stand-ins so the core's kernel #includes resolve here).
 */
#ifndef BTFRECON_SHIM_H
#define BTFRECON_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a) - 1)) == 0)

#define GFP_KERNEL 0x1u
#define __GFP_NOWARN 0x2u
typedef unsigned int gfp_t;

/* Fault injection for tests: fail the Nth allocation (0: never). */
extern unsigned long shim_fail_alloc_at;
extern unsigned long shim_alloc_count;

/*
 * Every allocation of the core is sized by its input: each must ask for
 * __GFP_NOWARN, or a module with absurd BTF would splat the kernel log.
 * The shim holds the core to that.
 */
static inline int shim_alloc_fails(gfp_t flags)
{
	if (flags != (GFP_KERNEL | __GFP_NOWARN)) {
		fprintf(stderr, "shim: allocation without GFP_KERNEL | __GFP_NOWARN (%#x)\n", flags);
		abort();
	}
	return shim_fail_alloc_at && ++shim_alloc_count == shim_fail_alloc_at;
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	if (shim_alloc_fails(flags))
		return NULL;
	/* calloc(0) may return NULL: never report that as a failure */
	return calloc(n ? n : 1, size ? size : 1);
}

static inline void *kvmalloc(size_t size, gfp_t flags)
{
	if (shim_alloc_fails(flags))
		return NULL;
	return malloc(size ? size : 1);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

/* A scheduling point: nothing to do in userspace. */
static inline void cond_resched(void)
{
}

/* The core's messages; the driver decides where they go. */
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define pr_warn(fmt, ...) shim_log(pr_fmt(fmt), ##__VA_ARGS__)

typedef int (*cmp_func_t)(const void *a, const void *b);
typedef void (*swap_func_t)(void *a, void *b, int size);

/* The kernel's sort() is a heapsort; ties have no defined order in either. */
static inline void sort(void *base, size_t num, size_t size, cmp_func_t cmp,
			swap_func_t swap)
{
	(void)swap;
	qsort(base, num, size, cmp);
}

#endif /* BTFRECON_SHIM_H */
