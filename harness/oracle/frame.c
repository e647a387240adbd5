// SPDX-License-Identifier: GPL-2.0
//go:build ignore

// (The go:build line keeps the Go tool from treating this as a cgo file.)
/*
 * The drivers' shared frame: arguments, the batch protocol, results, log
 * lines, files, caches and bench reports (see frame.h). The backend does
 * only the BTF work.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static const struct frame_backend *be;
static int batch_mode;		/* log lines go to stdout as "log ..." */
static int last_err;		/* negative errno of the refusal */
static char fail_msg[4200];

/* ---- log lines ---------------------------------------------------------- */

static char *log_buf;		/* pending partial line */
static size_t log_len, log_cap;

static void log_emit_line(const char *s, size_t n)
{
	if (batch_mode)
		printf("log %.*s\n", (int)n, s);
	else
		fprintf(stderr, "%.*s\n", (int)n, s);
}

void frame_log_raw(const char *s, size_t n)
{
	size_t start = 0, i;

	if (log_len + n + 1 > log_cap) {
		size_t cap = log_cap ? log_cap : 256;
		char *p;

		while (cap < log_len + n + 1)
			cap *= 2;
		p = realloc(log_buf, cap);
		if (!p)
			return;
		log_buf = p;
		log_cap = cap;
	}
	memcpy(log_buf + log_len, s, n);
	log_len += n;
	for (i = 0; i < log_len; i++) {
		if (log_buf[i] == '\n') {
			log_emit_line(log_buf + start, i - start);
			start = i + 1;
		}
	}
	memmove(log_buf, log_buf + start, log_len - start);
	log_len -= start;
}

/* A backend's messages do not always end in a newline: end the pending one. */
static void log_flush(void)
{
	if (log_len) {
		log_emit_line(log_buf, log_len);
		log_len = 0;
	}
}

/* One whole line, whether or not fmt ends in a newline. */
void frame_vlog(const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (n && buf[n - 1] == '\n')
		n--;
	log_flush();
	frame_log_raw(buf, n);
	frame_log_raw("\n", 1);
}

void frame_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	frame_vlog(fmt, ap);
	va_end(ap);
}

/* ---- results ------------------------------------------------------------ */

int frame_io(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return FRAME_IO;
}

/* @what, if given, names the failed step in a log line. */
int frame_err(int err, const char *what)
{
	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EINVAL;
	last_err = err;
	if (what)
		frame_log("%s: %s failed: %d", be->name, what, err);
	return FRAME_ERR;
}

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);

	return n ? n : "UNKNOWN";
}

/* ---- files -------------------------------------------------------------- */

/* An unreadable input is an I/O problem (exit 2), not the backend's verdict. */
int frame_readable(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return frame_io("cannot open %s: %s", path, strerror(errno));
	fclose(f);
	return FRAME_OK;
}

int frame_read(const char *path, struct frame_blob *b)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return frame_io("cannot open %s: %s", path, strerror(errno));
	n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	if (n < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return frame_io("cannot size %s", path);
	}
	if (n > 0xffffffffL) {
		fclose(f);
		return frame_io("%s is too large", path);
	}
	b->data = malloc(n ? n : 1);
	b->size = n;
	if (!b->data || (n && fread(b->data, 1, n, f) != (size_t)n)) {
		fclose(f);
		free(b->data);
		b->data = NULL;
		return frame_io("cannot read %s", path);
	}
	fclose(f);
	return FRAME_OK;
}

/* Written next to the destination, then renamed: no torn outputs. */
int frame_write(const char *path, const void *data, size_t size)
{
	char tmp[4200];
	FILE *f;
	int e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return frame_io("path too long: %s", path);
	f = fopen(tmp, "wb");
	if (!f)
		return frame_io("cannot create %s: %s", tmp, strerror(errno));
	if (size && fwrite(data, 1, size, f) != size) {
		e = errno;
		fclose(f);
		unlink(tmp);
		return frame_io("cannot write %s: %s", tmp, strerror(e));
	}
	if (fclose(f)) {
		e = errno;
		unlink(tmp);
		return frame_io("cannot write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		return frame_io("cannot rename %s to %s: %s", tmp, path, strerror(e));
	}
	return FRAME_OK;
}

/* ---- caches ------------------------------------------------------------- */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void cache_drop(struct frame_cache *c)
{
	if (c->obj)
		c->free(c->obj);
	free(c->path);
	c->path = NULL;
	c->obj = NULL;
}

int frame_cache_get(struct frame_cache *c, const char *path, void **obj)
{
	struct stat st;
	int r;

	if (!batch_mode)
		return c->load(path, obj);
	if (stat(path, &st))
		return frame_io("cannot stat %s: %s", path, strerror(errno));
	if (c->obj && !strcmp(c->path, path) && same_file(&c->st, &st)) {
		*obj = c->obj;
		return FRAME_OK;
	}
	cache_drop(c);
	r = c->load(path, obj);
	if (r)
		return r;
	c->path = strdup(path);
	c->st = st;
	c->obj = *obj;
	return FRAME_OK;
}

void frame_cache_put(struct frame_cache *c, void *obj)
{
	if (!batch_mode && obj)
		c->free(obj);
}

/* ---- bench reports ------------------------------------------------------ */

uint64_t frame_now_ns(void)
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

void frame_report(struct frame_metric *m, int nm, long n)
{
	int i;

	printf("iterations %ld\n", n);
	for (i = 0; i < nm; i++) {
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

/* ---- dispatch ----------------------------------------------------------- */

/* Lists only the verbs the backend offers. */
static int usage(void)
{
	char *p = fail_msg, *end = fail_msg + sizeof(fail_msg);

	p += snprintf(p, end - p, "usage: %s", be->name);
	if (be->distill)
		p += snprintf(p, end - p, " distill BASE SPLIT OUT_DISTILLED OUT_SPLIT |");
	if (be->relocate)
		p += snprintf(p, end - p, " relocate DISTILLED SPLIT TARGET OUT |");
	if (be->bench_distill)
		p += snprintf(p, end - p, " bench-distill BASE SPLIT N |");
	if (be->bench_relocate)
		p += snprintf(p, end - p, " bench-relocate DISTILLED SPLIT TARGET N |");
	snprintf(p, end - p, " batch | version");
	return FRAME_IO;
}

static int run(int argc, char **argv)
{
	long n;

	last_err = 0;
	fail_msg[0] = '\0';
	if (argc < 1)
		return usage();
	if (be->distill && !strcmp(argv[0], "distill") && argc == 5)
		return be->distill(argv[1], argv[2], argv[3], argv[4]);
	if (be->relocate && !strcmp(argv[0], "relocate") && argc == 5)
		return be->relocate(argv[1], argv[2], argv[3], argv[4]);
	if (batch_mode)
		return usage();
	if (be->bench_distill && !strcmp(argv[0], "bench-distill") && argc == 4) {
		n = parse_count(argv[3]);
		return n < 0 ? usage() : be->bench_distill(argv[1], argv[2], n);
	}
	if (be->bench_relocate && !strcmp(argv[0], "bench-relocate") && argc == 5) {
		n = parse_count(argv[4]);
		return n < 0 ? usage() : be->bench_relocate(argv[1], argv[2], argv[3], n);
	}
	if (!strcmp(argv[0], "version") && argc == 1) {
		be->version();
		return FRAME_OK;
	}
	return usage();
}

static void result(int r)
{
	log_flush();
	if (r == FRAME_OK)
		printf("ok\n");
	else if (r == FRAME_ERR)
		printf("error %d %s\n", last_err, errno_name(last_err));
	else
		printf("fail %s\n", fail_msg);
	fflush(stdout);
}

static int batch(void)
{
	struct frame_cache **c;
	char *line = NULL;
	size_t cap = 0;

	batch_mode = 1;
	while (getline(&line, &cap, stdin) >= 0) {
		static const char sep[] = " \t\r\n";
		char *args[8], *save = NULL, *tok;
		int argc = 0;

		for (tok = strtok_r(line, sep, &save); tok; tok = strtok_r(NULL, sep, &save)) {
			if (argc == 8)
				break;
			args[argc++] = tok;
		}
		if (argc == 0)
			continue; /* blank line: no command, no result */
		result(tok ? usage() : run(argc, args));
	}
	free(line);
	for (c = be->caches; c && *c; c++)
		cache_drop(*c);
	return FRAME_OK;
}

int frame_main(const struct frame_backend *b, int argc, char **argv)
{
	int r;

	be = b;
	if (argc == 2 && !strcmp(argv[1], "batch"))
		return batch();
	r = run(argc - 1, argv + 1);
	log_flush();
	if (r == FRAME_ERR) {
		printf("error %d %s\n", last_err, errno_name(last_err));
		fflush(stdout);
	} else if (r == FRAME_IO) {
		fprintf(stderr, "%s: %s\n", be->name, fail_msg);
	}
	return r;
}
