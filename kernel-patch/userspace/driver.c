// SPDX-License-Identifier: GPL-2.0
/*
 * btfrecon-ccore: the kernel patch's C core (kernel-patch/core/btf_reconcile.c)
 * built in userspace, behind the libbpf oracle's command-line interface
 * (harness/oracle/driver.c), so the Go side can drive either one.
 *
 *   btfrecon-ccore relocate DISTILLED SPLIT TARGET OUT
 *   btfrecon-ccore bench-relocate DISTILLED SPLIT TARGET N
 *   btfrecon-ccore batch            (commands on stdin)
 *   btfrecon-ccore version
 *
 * Exit status: 0 ok; 1 the core refused (stdout: "error <errno> <NAME>", the
 * core's pr_warn lines on stderr); 2 usage or I/O problem (message on stderr).
 * Batch mode: one "relocate ..." per line; for each, zero or more "log <text>"
 * lines, then "ok", "error <errno> <NAME>" or "fail <message>".
 *
 * The core takes host-endian BTF only (as the kernel does); this driver
 * converts foreign-endian inputs to host order and the output back to the
 * split's order, as libbpf's raw data would be.
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/btf.h>

#include "../core/btf_reconcile.h"

unsigned long shim_fail_alloc_at;
unsigned long shim_alloc_count;

enum { RES_OK = 0, RES_CORE = 1, RES_IO = 2 };

static int batch_mode;
static int last_err;
static char fail_msg[4200];

void shim_log(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (batch_mode)
		printf("log %s\n", buf);
	else
		fprintf(stderr, "%s\n", buf);
}

static int io_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return RES_IO;
}

static int core_fail(int err)
{
	last_err = err;
	return RES_CORE;
}

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);

	return n ? n : "UNKNOWN";
}

/* ---- files -------------------------------------------------------------- */

struct blob {
	u8 *data;
	u32 size;
};

static int read_file(const char *path, struct blob *b)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return io_fail("cannot open %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return io_fail("cannot size %s", path);
	}
	if (n > 0xffffffffL) {
		fclose(f);
		return io_fail("%s is too large", path);
	}
	b->data = malloc(n ? n : 1); /* malloc: 4-byte aligned, as the kernel's copy */
	b->size = n;
	if (!b->data || (n && fread(b->data, 1, n, f) != (size_t)n)) {
		fclose(f);
		free(b->data);
		b->data = NULL;
		return io_fail("cannot read %s", path);
	}
	fclose(f);
	return RES_OK;
}

static int write_file(const char *path, const void *data, size_t size)
{
	char tmp[4200];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return io_fail("path too long: %s", path);
	f = fopen(tmp, "wb");
	if (!f)
		return io_fail("cannot create %s: %s", tmp, strerror(errno));
	if ((size && fwrite(data, 1, size, f) != size) | fclose(f)) {
		unlink(tmp);
		return io_fail("cannot write %s", tmp);
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		return io_fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
	}
	return RES_OK;
}

/* ---- byte order --------------------------------------------------------- */

/*
 * Every field of a BTF type section is a 32-bit word, so a foreign-endian
 * BTF becomes host-endian by swapping the header fields and each word of the
 * type section. Returns 1 if @b was swapped, 0 if it was host-endian or is
 * not recognisably BTF (the core then refuses it).
 */
static int to_host(struct blob *b, int back)
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

/* ---- target cache (batch mode) ------------------------------------------ */

static struct {
	char *path;
	struct stat st;
	struct blob b;
	int swapped;
} target_cache;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void target_drop(void)
{
	free(target_cache.path);
	free(target_cache.b.data);
	memset(&target_cache, 0, sizeof(target_cache));
}

static int load_target(const char *path, struct blob *out)
{
	struct stat st;
	int r;

	if (stat(path, &st))
		return io_fail("cannot stat %s: %s", path, strerror(errno));
	if (target_cache.path && !strcmp(target_cache.path, path) &&
	    same_file(&target_cache.st, &st)) {
		*out = target_cache.b;
		return RES_OK;
	}
	target_drop();
	r = read_file(path, &target_cache.b);
	if (r)
		return r;
	to_host(&target_cache.b, 0);
	target_cache.path = strdup(path);
	target_cache.st = st;
	*out = target_cache.b;
	return RES_OK;
}

/* ---- operations --------------------------------------------------------- */

static int relocate_blobs(struct blob *d, struct blob *s, struct blob *t, u32 **map, u32 *cnt)
{
	return btf_reconcile("btfrecon", d->data, d->size, s->data, s->size, t->data, t->size,
			     map, cnt);
}

static int op_relocate(const char *dp, const char *sp, const char *tp, const char *out)
{
	struct blob d = {}, s = {}, t = {};
	u32 *map = NULL, cnt = 0;
	int r, err, swapped;

	r = read_file(dp, &d);
	if (!r)
		r = read_file(sp, &s);
	if (!r)
		r = load_target(tp, &t);
	if (r)
		goto out;
	to_host(&d, 0);
	swapped = to_host(&s, 0);
	err = relocate_blobs(&d, &s, &t, &map, &cnt);
	if (err) {
		r = core_fail(err);
		goto out;
	}
	if (swapped)
		to_host(&s, 1);
	r = write_file(out, s.data, s.size);
out:
	kvfree(map);
	free(d.data);
	free(s.data);
	if (!batch_mode)
		target_drop();
	return r;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int bench_relocate(const char *dp, const char *sp, const char *tp, long n)
{
	struct blob d = {}, s = {}, t = {}, work = {};
	u64 *v = calloc(n, sizeof(*v));
	int r;

	if (!v)
		return io_fail("out of memory");
	r = read_file(dp, &d);
	if (!r)
		r = read_file(sp, &s);
	if (!r)
		r = read_file(tp, &t);
	work.data = malloc(s.size ? s.size : 1);
	work.size = s.size;
	for (long i = 0; !r && i < n; i++) {
		u32 *map = NULL, cnt;
		u64 t0;
		int err;

		memcpy(work.data, s.data, s.size);
		t0 = now_ns();
		err = relocate_blobs(&d, &work, &t, &map, &cnt);
		v[i] = now_ns() - t0;
		kvfree(map);
		if (err)
			r = core_fail(err);
	}
	if (!r) {
		qsort(v, n, sizeof(*v), cmp_u64);
		printf("iterations %ld\nrelocate_ns %llu\nrelocate_min_ns %llu\n", n,
		       (unsigned long long)v[(n - 1) / 2], (unsigned long long)v[0]);
	}
	free(v);
	free(work.data);
	free(d.data);
	free(s.data);
	free(t.data);
	return r;
}

static int usage(void)
{
	return io_fail("usage: btfrecon-ccore relocate DISTILLED SPLIT TARGET OUT | "
		       "bench-relocate DISTILLED SPLIT TARGET N | batch | version");
}

static int run(int argc, char **argv)
{
	last_err = 0;
	fail_msg[0] = '\0';
	if (argc == 5 && !strcmp(argv[0], "relocate"))
		return op_relocate(argv[1], argv[2], argv[3], argv[4]);
	if (batch_mode)
		return usage();
	if (argc == 5 && !strcmp(argv[0], "bench-relocate")) {
		char *end;
		long n = strtol(argv[4], &end, 10);

		if (*end || n < 1 || n > 10000000)
			return usage();
		return bench_relocate(argv[1], argv[2], argv[3], n);
	}
	if (argc == 1 && !strcmp(argv[0], "version")) {
		printf("btfrecon-ccore (kernel-patch/core/btf_reconcile.c)\n");
		return RES_OK;
	}
	return usage();
}

static int batch(void)
{
	char *line = NULL;
	size_t cap = 0;

	batch_mode = 1;
	while (getline(&line, &cap, stdin) >= 0) {
		char *args[8], *save = NULL, *tok;
		int argc = 0, r;

		for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (argc == 8)
				break;
			args[argc++] = tok;
		}
		if (!argc)
			continue;
		r = tok ? usage() : run(argc, args);
		if (r == RES_OK)
			printf("ok\n");
		else if (r == RES_CORE)
			printf("error %d %s\n", last_err, errno_name(last_err));
		else
			printf("fail %s\n", fail_msg);
		fflush(stdout);
	}
	free(line);
	target_drop();
	return RES_OK;
}

int main(int argc, char **argv)
{
	int r;

	if (argc == 2 && !strcmp(argv[1], "batch"))
		return batch();
	r = run(argc - 1, argv + 1);
	if (r == RES_CORE)
		printf("error %d %s\n", last_err, errno_name(last_err));
	else if (r == RES_IO)
		fprintf(stderr, "btfrecon-ccore: %s\n", fail_msg);
	return r;
}
