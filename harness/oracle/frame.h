/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command-line frame of btfrecon's two C drivers, so that the Go side
 * (harness/oracle/oracle.go) drives either one the same way:
 *
 *   btfrecon-oracle  libbpf 1.5's btf__distill_base()/btf__relocate()
 *                    (backend: harness/oracle/driver.c)
 *   btfrecon-ccore   our kernel core, kernel-patch/core/btf_reconcile.c
 *                    (backend: kernel-patch/userspace/driver.c)
 *
 * Raw BTF files in, raw BTF files out:
 *
 *   NAME distill  BASE SPLIT OUT_DISTILLED OUT_SPLIT
 *   NAME relocate DISTILLED SPLIT TARGET OUT
 *   NAME bench-distill  BASE SPLIT N
 *   NAME bench-relocate DISTILLED SPLIT TARGET N
 *   NAME batch            (commands on stdin, see below)
 *   NAME version
 *
 * A backend offers the verbs it has (the core does not distill).
 *
 * Exit status: 0 ok; 1 the backend refused (stdout: "error <errno> <NAME>",
 * its log lines on stderr); 2 usage or I/O problem (message on stderr).
 *
 * Batch mode reads one command per line ("distill ..." or "relocate ...",
 * same arguments as above, separated by blanks; paths cannot contain blanks).
 * For every command it writes zero or more "log <text>" lines (the backend's
 * log and our own notes) and then exactly one result line: "ok",
 * "error <errno> <NAME>" (what exit status 1 means above) or
 * "fail <message>" (what exit status 2 means above). Stdout is flushed after
 * every result line. A backend's caches keep a parsed BASE/TARGET between
 * commands while its path and stat identity (dev, inode, size, mtime) stay
 * the same.
 */
#ifndef BTFRECON_FRAME_H
#define BTFRECON_FRAME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* What an operation returns; also the exit status. */
enum { FRAME_OK = 0, FRAME_ERR = 1, FRAME_IO = 2 };

/*
 * A standalone BTF kept parsed between batch commands: the backend fills
 * in load and free, the frame the rest.
 */
struct frame_cache {
	int (*load)(const char *path, void **obj);
	void (*free)(void *obj);
	char *path;
	struct stat st;
	void *obj;
};

struct frame_backend {
	const char *name;	/* program name, in usage and messages */
	/* NULL: verb not offered */
	int (*distill)(const char *base, const char *split, const char *out_dist,
		       const char *out_split);
	int (*relocate)(const char *dist, const char *split, const char *target,
			const char *out);
	int (*bench_distill)(const char *base, const char *split, long n);
	int (*bench_relocate)(const char *dist, const char *split, const char *target,
			      long n);
	void (*version)(void);
	struct frame_cache **caches;	/* NULL-terminated; dropped when a batch ends */
};

int frame_main(const struct frame_backend *b, int argc, char **argv);

/* Results: an I/O or usage problem, or the backend's refusal (errno). */
int frame_io(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int frame_err(int err, const char *what);

/* Log lines: whole ones, or raw text ended at its newlines. */
void frame_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void frame_vlog(const char *fmt, va_list ap);
void frame_log_raw(const char *s, size_t n);

/* Files. */
struct frame_blob {
	uint8_t *data;		/* malloc'd: 4-byte aligned, as the kernel's copy */
	uint32_t size;
};

int frame_readable(const char *path);
int frame_read(const char *path, struct frame_blob *b);
int frame_write(const char *path, const void *data, size_t size);

/* Cached in batch mode, loaded afresh (and freed by put) otherwise. */
int frame_cache_get(struct frame_cache *c, const char *path, void **obj);
void frame_cache_put(struct frame_cache *c, void *obj);

/* Benchmarks: per-iteration timings, reported as median and best. */
struct frame_metric {
	const char *name;
	uint64_t *v;
};

uint64_t frame_now_ns(void);
void frame_report(struct frame_metric *m, int nm, long n);

#endif /* BTFRECON_FRAME_H */
