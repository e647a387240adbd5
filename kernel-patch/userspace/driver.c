// SPDX-License-Identifier: GPL-2.0
/*
 * btfrecon-ccore: the kernel patch's C core (kernel-patch/core/btf_reconcile.c)
 * built in userspace behind the drivers' frame (harness/oracle/frame.h: the
 * libbpf oracle's command line and batch protocol), so the Go side can drive
 * either one. Verbs: relocate, bench-relocate, batch, version. A refusal is
 * the core's errno, with its pr_warn lines as log lines.
 *
 * The core takes host-endian BTF only (as the kernel does); this driver
 * converts foreign-endian inputs to host order and the output back to the
 * split's order, as libbpf's raw data would be.
 */
#include <stdarg.h>
#include <linux/btf.h>

#include "../core/btf_reconcile.h"
#include "frame.h"

unsigned long shim_fail_alloc_at;
unsigned long shim_alloc_count;

void shim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	frame_vlog(fmt, ap);
	va_end(ap);
}

/* ---- byte order --------------------------------------------------------- */

/*
 * Every field of a BTF type section is a 32-bit word, so a foreign-endian
 * BTF becomes host-endian by swapping the header fields and each word of the
 * type section. Returns 1 if @b was swapped, 0 if it was host-endian or is
 * not recognisably BTF (the core then refuses it).
 */
static int to_host(struct frame_blob *b, int back)
{
	struct btf_header *h = (struct btf_header *)b->data;
	u32 hdr_len, type_off, type_len, i;

	if (b->size < sizeof(*h))
		return 0;
	if (!back && h->magic != __builtin_bswap16(BTF_MAGIC))
		return 0;
	if (back) {
		hdr_len = h->hdr_len;
		type_off = h->type_off;
		type_len = h->type_len;
	} else {
		hdr_len = __builtin_bswap32(h->hdr_len);
		type_off = __builtin_bswap32(h->type_off);
		type_len = __builtin_bswap32(h->type_len);
	}
	h->magic = __builtin_bswap16(h->magic);
	h->hdr_len = __builtin_bswap32(h->hdr_len);
	h->type_off = __builtin_bswap32(h->type_off);
	h->type_len = __builtin_bswap32(h->type_len);
	h->str_off = __builtin_bswap32(h->str_off);
	h->str_len = __builtin_bswap32(h->str_len);
	if ((u64)hdr_len + type_off + type_len <= b->size && !(hdr_len % 4) && !(type_off % 4)) {
		u32 *w = (u32 *)(b->data + hdr_len + type_off);

		for (i = 0; i < type_len / 4; i++)
			w[i] = __builtin_bswap32(w[i]);
	}
	return 1;
}

/* ---- TARGET, kept host-endian between batch commands -------------------- */

static int load_target(const char *path, void **obj)
{
	struct frame_blob *b = calloc(1, sizeof(*b));
	int r;

	*obj = NULL;
	if (!b)
		return frame_io("out of memory");
	r = frame_read(path, b);
	if (r) {
		free(b);
		return r;
	}
	to_host(b, 0);
	*obj = b;
	return FRAME_OK;
}

static void free_target(void *obj)
{
	struct frame_blob *b = obj;

	free(b->data);
	free(b);
}

static struct frame_cache cache_target = { .load = load_target, .free = free_target };

/* ---- operations --------------------------------------------------------- */

static int relocate_blobs(struct frame_blob *d, struct frame_blob *s, const struct frame_blob *t,
			  u32 **map, u32 *cnt)
{
	return btf_reconcile("btfrecon", d->data, d->size, s->data, s->size, t->data, t->size,
			     map, cnt);
}

/*
 * As the kernel calls it: the distilled base read in place from the module
 * image, at an odd address (sections of a module file are not aligned: a
 * build with -fsanitize=alignment catches any direct read), and the split
 * must come back untouched from a refusal. *err: the core's result;
 * returns a frame error if the core broke either promise.
 */
static int relocate_checked(const struct frame_blob *d, struct frame_blob *s,
			    const struct frame_blob *t, u32 **map, u32 *cnt, int *err)
{
	u8 *odd = malloc(d->size + 1), *saved = malloc(s->size ? s->size : 1);
	int r = FRAME_OK;

	if (!odd || !saved) {
		r = frame_io("out of memory");
		goto out;
	}
	memcpy(odd + 1, d->data, d->size);
	memcpy(saved, s->data, s->size);
	*err = btf_reconcile("btfrecon", odd + 1, d->size, s->data, s->size, t->data, t->size,
			     map, cnt);
	if (*err && memcmp(saved, s->data, s->size))
		r = frame_io("the core refused (%d) but changed the split", *err);
out:
	free(odd);
	free(saved);
	return r;
}

static int op_relocate(const char *dp, const char *sp, const char *tp, const char *out)
{
	struct frame_blob d = {}, s = {}, *t = NULL;
	u32 *map = NULL, cnt = 0;
	void *obj = NULL;
	int r, err, swapped;

	r = frame_read(dp, &d);
	if (!r)
		r = frame_read(sp, &s);
	if (!r)
		r = frame_cache_get(&cache_target, tp, &obj);
	if (r)
		goto out;
	t = obj;
	to_host(&d, 0);
	swapped = to_host(&s, 0);
	r = relocate_checked(&d, &s, t, &map, &cnt, &err);
	if (r)
		goto out;
	if (err) {
		r = frame_err(err, NULL);
		goto out;
	}
	if (swapped)
		to_host(&s, 1);
	r = frame_write(out, s.data, s.size);
out:
	kvfree(map);
	free(d.data);
	free(s.data);
	frame_cache_put(&cache_target, t);
	return r;
}

/* Inputs read once, as given (no byte swap); only the core's work is timed. */
static int bench_relocate(const char *dp, const char *sp, const char *tp, long n)
{
	struct frame_blob d = {}, s = {}, t = {}, work = {};
	u64 *v = calloc(n, sizeof(*v));
	struct frame_metric m[] = { { "relocate", v } };
	int r;

	if (!v)
		return frame_io("out of memory");
	r = frame_read(dp, &d);
	if (!r)
		r = frame_read(sp, &s);
	if (!r)
		r = frame_read(tp, &t);
	if (!r) {
		work.data = malloc(s.size ? s.size : 1);
		work.size = s.size;
		if (!work.data)
			r = frame_io("out of memory");
	}
	for (long i = 0; !r && i < n; i++) {
		u32 *map = NULL, cnt;
		u64 t0;
		int err;

		memcpy(work.data, s.data, s.size);
		t0 = frame_now_ns();
		err = relocate_blobs(&d, &work, &t, &map, &cnt);
		v[i] = frame_now_ns() - t0;
		kvfree(map);
		if (err)
			r = frame_err(err, NULL);
	}
	if (!r)
		frame_report(m, 1, n);
	free(v);
	free(work.data);
	free(d.data);
	free(s.data);
	free(t.data);
	return r;
}

static void version(void)
{
	printf("btfrecon-ccore (kernel-patch/core/btf_reconcile.c)\n");
}

static struct frame_cache *caches[] = { &cache_target, NULL };

static const struct frame_backend ccore = {
	.name = "btfrecon-ccore",
	.relocate = op_relocate,
	.bench_relocate = bench_relocate,
	.version = version,
	.caches = caches,
};

int main(int argc, char **argv)
{
	return frame_main(&ccore, argc, argv);
}
