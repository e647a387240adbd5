// SPDX-License-Identifier: GPL-2.0
//go:build ignore

// (The go:build line keeps the Go tool from treating this as a cgo file.)
/*
 * btfrecon-oracle: a thin command-line front end to libbpf's public BTF API
 * (btf__distill_base, btf__relocate), used as the byte-exact reference the
 * Go model is diffed against. Raw BTF files in, raw BTF files out.
 *
 *   btfrecon-oracle distill  BASE SPLIT OUT_DISTILLED OUT_SPLIT
 *   btfrecon-oracle relocate DISTILLED SPLIT TARGET OUT
 *   btfrecon-oracle bench-distill  BASE SPLIT N
 *   btfrecon-oracle bench-relocate DISTILLED SPLIT TARGET N
 *   btfrecon-oracle batch            (commands on stdin, see below)
 *   btfrecon-oracle version
 *
 * Exit status: 0 ok; 1 libbpf failed (stdout: "error <errno> <NAME>", libbpf's
 * WARN/INFO lines on stderr); 2 usage or I/O problem (message on stderr).
 *
 * Batch mode reads one command per line ("distill ..." or "relocate ...",
 * same arguments as above, separated by blanks; paths cannot contain blanks).
 * For every command it writes zero or more "log <text>" lines (libbpf's
 * WARN/INFO output and our own notes) and then exactly one result line:
 * "ok", "error <errno> <NAME>" (what exit status 1 means above) or
 * "fail <message>" (what exit status 2 means above). Stdout is flushed after
 * every result line. Parsed BASE/TARGET files are kept between commands while
 * their path and stat identity (dev, inode, size, mtime) stay the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>

#ifndef BTFRECON_SRC_VERSION
#define BTFRECON_SRC_VERSION "unknown"
#endif

#if LIBBPF_MAJOR_VERSION != 1 || LIBBPF_MINOR_VERSION != 5
#error "btfrecon-oracle must be built against libbpf 1.5"
#endif

/* ---- libbpf log capture ------------------------------------------------ */

static int batch_mode;     /* log lines go to stdout as "log ..." */
static char *log_buf;      /* pending partial line */
static size_t log_len, log_cap;

static void log_emit_line(const char *s, size_t n)
{
	if (batch_mode)
		printf("log %.*s\n", (int)n, s);
	else
		fprintf(stderr, "%.*s\n", (int)n, s);
}

static void log_append(const char *s, size_t n)
{
	if (log_len + n + 1 > log_cap) {
		size_t cap = log_cap ? log_cap : 256;

		while (cap < log_len + n + 1)
			cap *= 2;
		char *p = realloc(log_buf, cap);

		if (!p)
			return;
		log_buf = p;
		log_cap = cap;
	}
	memcpy(log_buf + log_len, s, n);
	log_len += n;
	/* emit every complete line */
	size_t start = 0;

	for (size_t i = 0; i < log_len; i++) {
		if (log_buf[i] == '\n') {
			log_emit_line(log_buf + start, i - start);
			start = i + 1;
		}
	}
	memmove(log_buf, log_buf + start, log_len - start);
	log_len -= start;
}

/* libbpf messages do not always end in a newline: end the pending one. */
static void log_flush(void)
{
	if (log_len) {
		log_emit_line(log_buf, log_len);
		log_len = 0;
	}
}

static void note(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	log_flush();
	log_append(buf, n);
	log_append("\n", 1);
}

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
	log_append(buf, n);
	return n;
}

/* ---- results ------------------------------------------------------------ */

enum { RES_OK = 0, RES_LIBBPF = 1, RES_IO = 2 };

static char fail_msg[4200];

static int io_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return RES_IO;
}

static int last_err; /* negative errno of the libbpf failure */

static int libbpf_fail(int err, const char *what)
{
	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EINVAL;
	last_err = err;
	note("btfrecon-oracle: %s failed: %d", what, err);
	return RES_LIBBPF;
}

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);

	return n ? n : "UNKNOWN";
}

/* ---- file helpers ------------------------------------------------------- */

/* An unreadable input is an I/O problem (exit 2), not a libbpf verdict. */
static int check_readable(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return io_fail("cannot open %s: %s", path, strerror(errno));
	fclose(f);
	return RES_OK;
}

static int write_file(const char *path, const void *data, size_t size)
{
	char tmp[4200];
	FILE *f;

	/* write next to the destination, then rename: no torn outputs */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return io_fail("path too long: %s", path);
	f = fopen(tmp, "wb");
	if (!f)
		return io_fail("cannot create %s: %s", tmp, strerror(errno));
	if (size && fwrite(data, 1, size, f) != size) {
		int e = errno;

		fclose(f);
		unlink(tmp);
		return io_fail("cannot write %s: %s", tmp, strerror(e));
	}
	if (fclose(f)) {
		int e = errno;

		unlink(tmp);
		return io_fail("cannot write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return io_fail("cannot rename %s to %s: %s", tmp, path, strerror(e));
	}
	return RES_OK;
}

static int write_btf(const char *path, const struct btf *btf, const char *what)
{
	const void *data;
	__u32 size = 0;

	data = btf__raw_data(btf, &size);
	if (!data)
		return libbpf_fail(-errno, what);
	return write_file(path, data, size);
}

static int parse(const char *path, struct btf *base, struct btf **out, const char *what)
{
	int r = check_readable(path);

	if (r)
		return r;
	*out = base ? btf__parse_raw_split(path, base) : btf__parse_raw(path);
	if (!*out)
		return libbpf_fail(-errno, what);
	return RES_OK;
}

/* ---- cache of parsed standalone BTF (batch mode) ------------------------ */

struct cached {
	char *path;
	struct stat st;
	struct btf *btf;
};

static int use_cache;
static struct cached cache_base, cache_target;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void cache_drop(struct cached *c)
{
	btf__free(c->btf);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* Parse a standalone BTF; with use_cache, reuse the last one of this role. */
static int parse_base(const char *path, struct cached *c, struct btf **out, const char *what)
{
	struct stat st;
	int r;

	if (!use_cache)
		return parse(path, NULL, out, what);
	if (stat(path, &st))
		return io_fail("cannot stat %s: %s", path, strerror(errno));
	if (c->btf && !strcmp(c->path, path) && same_file(&c->st, &st)) {
		*out = c->btf;
		return RES_OK;
	}
	cache_drop(c);
	r = parse(path, NULL, out, what);
	if (r)
		return r;
	c->path = strdup(path);
	c->st = st;
	c->btf = *out;
	return RES_OK;
}

static void release_base(struct btf *btf)
{
	if (!use_cache)
		btf__free(btf);
}

/* ---- operations --------------------------------------------------------- */

static int op_distill(const char *base_p, const char *split_p, const char *out_d, const char *out_s)
{
	struct btf *base = NULL, *split = NULL, *nb = NULL, *ns = NULL;
	int r, err;

	r = parse_base(base_p, &cache_base, &base, "parse BASE");
	if (r)
		return r;
	r = parse(split_p, base, &split, "parse SPLIT");
	if (r)
		goto out;
	err = btf__distill_base(split, &nb, &ns);
	if (err) {
		r = libbpf_fail(err, "btf__distill_base");
		goto out;
	}
	r = write_btf(out_d, nb, "btf__raw_data(distilled)");
	if (!r)
		r = write_btf(out_s, ns, "btf__raw_data(split)");
out:
	btf__free(ns);
	btf__free(nb);
	btf__free(split);
	release_base(base);
	return r;
}

static int op_relocate(const char *dist_p, const char *split_p, const char *target_p, const char *out)
{
	struct btf *dist = NULL, *split = NULL, *target = NULL;
	int r, err;

	r = parse(dist_p, NULL, &dist, "parse DISTILLED");
	if (r)
		return r;
	r = parse(split_p, dist, &split, "parse SPLIT");
	if (r)
		goto out;
	r = parse_base(target_p, &cache_target, &target, "parse TARGET");
	if (r)
		goto out;
	err = btf__relocate(split, target);
	if (err) {
		r = libbpf_fail(err, "btf__relocate");
		goto out;
	}
	r = write_btf(out, split, "btf__raw_data(relocated split)");
out:
	/* split first: after relocation it points at target, never at dist */
	btf__free(split);
	if (target)
		release_base(target);
	btf__free(dist);
	return r;
}

/* ---- bench -------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct metric {
	const char *name;
	uint64_t *v;
};

static void report(struct metric *m, int nm, long n)
{
	printf("iterations %ld\n", n);
	for (int i = 0; i < nm; i++) {
		qsort(m[i].v, n, sizeof(uint64_t), cmp_u64);
		/* median (lower middle for even n) and best-of */
		printf("%s_ns %llu\n", m[i].name, (unsigned long long)m[i].v[(n - 1) / 2]);
		printf("%s_min_ns %llu\n", m[i].name, (unsigned long long)m[i].v[0]);
	}
}

static long parse_count(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 1 || n > 100000000)
		return -1;
	return n;
}

static int bench_distill(const char *base_p, const char *split_p, long n)
{
	uint64_t *v = calloc(4 * n, sizeof(uint64_t));
	struct metric m[] = {
		{ "parse_base", v }, { "parse_split", v + n }, { "distill", v + 2 * n }, { "raw_data", v + 3 * n },
	};
	int r = RES_OK;

	if (!v)
		return io_fail("out of memory");
	for (long i = 0; i < n && !r; i++) {
		struct btf *base = NULL, *split = NULL, *nb = NULL, *ns = NULL;
		const void *d;
		__u32 sz;
		uint64_t t0, t1, t2, t3, t4;
		int err;

		t0 = now_ns();
		r = parse(base_p, NULL, &base, "parse BASE");
		t1 = now_ns();
		if (!r)
			r = parse(split_p, base, &split, "parse SPLIT");
		t2 = now_ns();
		if (!r && (err = btf__distill_base(split, &nb, &ns)))
			r = libbpf_fail(err, "btf__distill_base");
		t3 = now_ns();
		if (!r && (!(d = btf__raw_data(nb, &sz)) || !(d = btf__raw_data(ns, &sz))))
			r = libbpf_fail(-errno, "btf__raw_data");
		t4 = now_ns();
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
		report(m, 4, n);
	free(v);
	return r;
}

static int bench_relocate(const char *dist_p, const char *split_p, const char *target_p, long n)
{
	uint64_t *v = calloc(5 * n, sizeof(uint64_t));
	struct metric m[] = {
		{ "parse_distilled", v }, { "parse_split", v + n }, { "parse_target", v + 2 * n },
		{ "relocate", v + 3 * n }, { "raw_data", v + 4 * n },
	};
	int r = RES_OK;

	if (!v)
		return io_fail("out of memory");
	for (long i = 0; i < n && !r; i++) {
		struct btf *dist = NULL, *split = NULL, *target = NULL;
		__u32 sz;
		uint64_t t0, t1, t2, t3, t4, t5;
		int err;

		t0 = now_ns();
		r = parse(dist_p, NULL, &dist, "parse DISTILLED");
		t1 = now_ns();
		if (!r)
			r = parse(split_p, dist, &split, "parse SPLIT");
		t2 = now_ns();
		if (!r)
			r = parse(target_p, NULL, &target, "parse TARGET");
		t3 = now_ns();
		if (!r && (err = btf__relocate(split, target)))
			r = libbpf_fail(err, "btf__relocate");
		t4 = now_ns();
		if (!r && !btf__raw_data(split, &sz))
			r = libbpf_fail(-errno, "btf__raw_data");
		t5 = now_ns();
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
		report(m, 5, n);
	free(v);
	return r;
}

/* ---- dispatch ----------------------------------------------------------- */

static int usage(void)
{
	return io_fail("usage: btfrecon-oracle distill BASE SPLIT OUT_DISTILLED OUT_SPLIT | "
		       "relocate DISTILLED SPLIT TARGET OUT | bench-distill BASE SPLIT N | "
		       "bench-relocate DISTILLED SPLIT TARGET N | batch | version");
}

static int run(int argc, char **argv)
{
	long n;

	last_err = 0;
	fail_msg[0] = '\0';
	if (argc < 1)
		return usage();
	if (!strcmp(argv[0], "distill") && argc == 5)
		return op_distill(argv[1], argv[2], argv[3], argv[4]);
	if (!strcmp(argv[0], "relocate") && argc == 5)
		return op_relocate(argv[1], argv[2], argv[3], argv[4]);
	if (batch_mode)
		return usage();
	if (!strcmp(argv[0], "bench-distill") && argc == 4) {
		if ((n = parse_count(argv[3])) < 0)
			return usage();
		return bench_distill(argv[1], argv[2], n);
	}
	if (!strcmp(argv[0], "bench-relocate") && argc == 5) {
		if ((n = parse_count(argv[4])) < 0)
			return usage();
		return bench_relocate(argv[1], argv[2], argv[3], n);
	}
	if (!strcmp(argv[0], "version") && argc == 1) {
		printf("libbpf %u.%u src %s\n", libbpf_major_version(), libbpf_minor_version(),
		       BTFRECON_SRC_VERSION);
		return RES_OK;
	}
	return usage();
}

static int batch(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	batch_mode = 1;
	use_cache = 1;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		char *args[8], *save = NULL, *tok;
		int argc = 0, r;

		for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (argc == 8)
				break;
			args[argc++] = tok;
		}
		if (argc == 0)
			continue; /* blank line: no command, no result */
		r = tok ? usage() : run(argc, args);
		log_flush();
		if (r == RES_OK)
			printf("ok\n");
		else if (r == RES_LIBBPF)
			printf("error %d %s\n", last_err, errno_name(last_err));
		else
			printf("fail %s\n", fail_msg);
		fflush(stdout);
	}
	free(line);
	cache_drop(&cache_base);
	cache_drop(&cache_target);
	return RES_OK;
}

int main(int argc, char **argv)
{
	int r;

	libbpf_set_print(print_cb);
	if (argc == 2 && !strcmp(argv[1], "batch"))
		return batch();
	r = run(argc - 1, argv + 1);
	log_flush();
	if (r == RES_LIBBPF) {
		printf("error %d %s\n", last_err, errno_name(last_err));
		fflush(stdout);
	} else if (r == RES_IO) {
		fprintf(stderr, "btfrecon-oracle: %s\n", fail_msg);
	}
	return r;
}
