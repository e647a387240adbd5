// SPDX-License-Identifier: GPL-2.0
//go:build ignore

// (The go:build line keeps the Go tool from treating this as a cgo file.)
/*
 * btfrecon-oracle: libbpf's public BTF API (btf__distill_base,
 * btf__relocate) behind the drivers' frame (frame.h: the command line and
 * batch protocol), the byte-exact reference the Go model is diffed against.
 * A refusal is libbpf's errno, with libbpf's WARN/INFO lines as log lines.
 *
 * One source for both oracles: libbpf 1.5 (linux-source-6.12, installed as
 * btfrecon-oracle) and libbpf 1.8 (linux-source-7.2, btfrecon-oracle-1.8).
 * The calls used here (btf__parse_raw[_split], btf__distill_base,
 * btf__relocate, btf__raw_data, btf__free, libbpf_set_print) have the same
 * signatures in both; what differs is libbpf's behaviour, which is the
 * point (harness/oracle/versions_test.go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>

#include "frame.h"

#ifndef BTFRECON_SRC_VERSION
#define BTFRECON_SRC_VERSION "unknown"
#endif

#if LIBBPF_MAJOR_VERSION != 1 || (LIBBPF_MINOR_VERSION != 5 && LIBBPF_MINOR_VERSION != 8)
#error "btfrecon-oracle must be built against libbpf 1.5 or 1.8"
#endif

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	frame_log_raw(buf, n);
	return n;
}

static int write_btf(const char *path, const struct btf *btf, const char *what)
{
	const void *data;
	__u32 size = 0;

	data = btf__raw_data(btf, &size);
	if (!data)
		return frame_err(-errno, what);
	return frame_write(path, data, size);
}

static int parse(const char *path, struct btf *base, struct btf **out, const char *what)
{
	int r = frame_readable(path);

	if (r)
		return r;
	*out = base ? btf__parse_raw_split(path, base) : btf__parse_raw(path);
	if (!*out)
		return frame_err(-errno, what);
	return FRAME_OK;
}

/* ---- parsed BASE and TARGET, kept between batch commands ---------------- */

static int load(const char *path, void **obj, const char *what)
{
	struct btf *btf = NULL;
	int r = parse(path, NULL, &btf, what);

	*obj = btf;
	return r;
}

static int load_base(const char *path, void **obj)
{
	return load(path, obj, "parse BASE");
}

static int load_target(const char *path, void **obj)
{
	return load(path, obj, "parse TARGET");
}

static void free_btf(void *obj)
{
	btf__free(obj);
}

static struct frame_cache cache_base = { .load = load_base, .free = free_btf };
static struct frame_cache cache_target = { .load = load_target, .free = free_btf };

/* ---- operations --------------------------------------------------------- */

static int op_distill(const char *base_p, const char *split_p, const char *out_d,
		      const char *out_s)
{
	struct btf *base, *split = NULL, *nb = NULL, *ns = NULL;
	void *obj = NULL;
	int r, err;

	r = frame_cache_get(&cache_base, base_p, &obj);
	if (r)
		return r;
	base = obj;
	r = parse(split_p, base, &split, "parse SPLIT");
	if (r)
		goto out;
	err = btf__distill_base(split, &nb, &ns);
	if (err) {
		r = frame_err(err, "btf__distill_base");
		goto out;
	}
	r = write_btf(out_d, nb, "btf__raw_data(distilled)");
	if (!r)
		r = write_btf(out_s, ns, "btf__raw_data(split)");
out:
	btf__free(ns);
	btf__free(nb);
	btf__free(split);
	frame_cache_put(&cache_base, base);
	return r;
}

static int op_relocate(const char *dist_p, const char *split_p, const char *target_p,
		       const char *out)
{
	struct btf *dist = NULL, *split = NULL, *target = NULL;
	void *obj = NULL;
	int r, err;

	r = parse(dist_p, NULL, &dist, "parse DISTILLED");
	if (r)
		return r;
	r = parse(split_p, dist, &split, "parse SPLIT");
	if (r)
		goto out;
	r = frame_cache_get(&cache_target, target_p, &obj);
	if (r)
		goto out;
	target = obj;
	err = btf__relocate(split, target);
	if (err) {
		r = frame_err(err, "btf__relocate");
		goto out;
	}
	r = write_btf(out, split, "btf__raw_data(relocated split)");
out:
	/* split first: after relocation it points at target, never at dist */
	btf__free(split);
	frame_cache_put(&cache_target, target);
	btf__free(dist);
	return r;
}

/* ---- bench: every step of every iteration, caches not used -------------- */

static int bench_distill(const char *base_p, const char *split_p, long n)
{
	uint64_t *v = calloc(4 * n, sizeof(uint64_t));
	struct frame_metric m[] = {
		{ "parse_base", v }, { "parse_split", v + n },
		{ "distill", v + 2 * n }, { "raw_data", v + 3 * n },
	};
	int r = FRAME_OK;

	if (!v)
		return frame_io("out of memory");
	for (long i = 0; i < n && !r; i++) {
		struct btf *base = NULL, *split = NULL, *nb = NULL, *ns = NULL;
		__u32 sz;
		uint64_t t0, t1, t2, t3, t4;
		int err;

		t0 = frame_now_ns();
		r = parse(base_p, NULL, &base, "parse BASE");
		t1 = frame_now_ns();
		if (!r)
			r = parse(split_p, base, &split, "parse SPLIT");
		t2 = frame_now_ns();
		err = r ? 0 : btf__distill_base(split, &nb, &ns);
		if (err)
			r = frame_err(err, "btf__distill_base");
		t3 = frame_now_ns();
		if (!r && (!btf__raw_data(nb, &sz) || !btf__raw_data(ns, &sz)))
			r = frame_err(-errno, "btf__raw_data");
		t4 = frame_now_ns();
		m[0].v[i] = t1 - t0;
		m[1].v[i] = t2 - t1;
		m[2].v[i] = t3 - t2;
		m[3].v[i] = t4 - t3;
		btf__free(ns);
		btf__free(nb);
		btf__free(split);
		btf__free(base);
	}
	if (!r)
		frame_report(m, 4, n);
	free(v);
	return r;
}

static int bench_relocate(const char *dist_p, const char *split_p, const char *target_p, long n)
{
	uint64_t *v = calloc(5 * n, sizeof(uint64_t));
	struct frame_metric m[] = {
		{ "parse_distilled", v }, { "parse_split", v + n }, { "parse_target", v + 2 * n },
		{ "relocate", v + 3 * n }, { "raw_data", v + 4 * n },
	};
	int r = FRAME_OK;

	if (!v)
		return frame_io("out of memory");
	for (long i = 0; i < n && !r; i++) {
		struct btf *dist = NULL, *split = NULL, *target = NULL;
		__u32 sz;
		uint64_t t0, t1, t2, t3, t4, t5;
		int err;

		t0 = frame_now_ns();
		r = parse(dist_p, NULL, &dist, "parse DISTILLED");
		t1 = frame_now_ns();
		if (!r)
			r = parse(split_p, dist, &split, "parse SPLIT");
		t2 = frame_now_ns();
		if (!r)
			r = parse(target_p, NULL, &target, "parse TARGET");
		t3 = frame_now_ns();
		err = r ? 0 : btf__relocate(split, target);
		if (err)
			r = frame_err(err, "btf__relocate");
		t4 = frame_now_ns();
		if (!r && !btf__raw_data(split, &sz))
			r = frame_err(-errno, "btf__raw_data");
		t5 = frame_now_ns();
		m[0].v[i] = t1 - t0;
		m[1].v[i] = t2 - t1;
		m[2].v[i] = t3 - t2;
		m[3].v[i] = t4 - t3;
		m[4].v[i] = t5 - t4;
		btf__free(split);
		btf__free(target);
		btf__free(dist);
	}
	if (!r)
		frame_report(m, 5, n);
	free(v);
	return r;
}

static void version(void)
{
	printf("libbpf %u.%u src %s\n", libbpf_major_version(), libbpf_minor_version(),
	       BTFRECON_SRC_VERSION);
}

static struct frame_cache *caches[] = { &cache_base, &cache_target, NULL };

static const struct frame_backend oracle = {
	.name = "btfrecon-oracle",
	.distill = op_distill,
	.relocate = op_relocate,
	.bench_distill = bench_distill,
	.bench_relocate = bench_relocate,
	.version = version,
	.caches = caches,
};

int main(int argc, char **argv)
{
	libbpf_set_print(print_cb);
	return frame_main(&oracle, argc, argv);
}
