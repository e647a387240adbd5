// SPDX-License-Identifier: GPL-2.0
/*
 * kcall MODULE.ko FLAGS NAME KFUNC_ID ARG: the guest side of
 * harness/kfunccall. Loads MODULE.ko with finit_module(FLAGS), finds the BTF
 * object the kernel made of it (named NAME), then loads and runs a
 * BPF_PROG_TYPE_SYSCALL program whose only call is the kfunc with BTF id
 * KFUNC_ID of that BTF, with ARG in r1, and prints its return value:
 *
 *	KCALL load ok | KCALL load failed: <errno text>
 *	KCALL btf <id> | KCALL btf none
 *	KCALL call <kfunc id> retval <n> | KCALL call <kfunc id> refused: <why>
 *
 * Raw syscalls, no libbpf; built static on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char vlog[1 << 16];

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* the fd and id of the BTF object called name, or -1 */
static int btf_by_name(const char *name, __u32 *idp)
{
	union bpf_attr a;
	__u32 id = 0;

	for (;;) {
		struct bpf_btf_info info;
		char got[64];
		int fd;

		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (bpf(BPF_BTF_GET_NEXT_ID, &a))
			return -1;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.btf_id = id;
		fd = bpf(BPF_BTF_GET_FD_BY_ID, &a);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memset(got, 0, sizeof(got));
		info.name = (__u64)(unsigned long)got;
		info.name_len = sizeof(got);
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = fd;
		a.info.info_len = sizeof(info);
		a.info.info = (__u64)(unsigned long)&info;
		if (!bpf(BPF_OBJ_GET_INFO_BY_FD, &a) && !strcmp(got, name)) {
			*idp = id;
			return fd;
		}
		close(fd);
	}
}

/* the verifier's last line before its statistics */
static const char *last_line(void)
{
	char *nl;

	for (;;) {
		size_t n = strlen(vlog);

		while (n && vlog[n - 1] == '\n')
			vlog[--n] = 0;
		nl = strrchr(vlog, '\n');
		if (!nl || strncmp(nl + 1, "processed ", 10))
			return nl ? nl + 1 : vlog;
		*nl = 0;
	}
}

int main(int argc, char **argv)
{
	struct bpf_insn prog[3];
	union bpf_attr a;
	int fds[2], mfd, bfd, pfd;
	__u32 btf_id;

	if (argc != 6) {
		fprintf(stderr, "usage: kcall MODULE.ko FLAGS NAME KFUNC_ID ARG\n");
		return 2;
	}
	mfd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (mfd < 0 || syscall(__NR_finit_module, mfd, "", atoi(argv[2]))) {
		printf("KCALL load failed: %s\n", strerror(errno));
		return 1;
	}
	printf("KCALL load ok\n");
	bfd = btf_by_name(argv[3], &btf_id);
	if (bfd < 0) {
		printf("KCALL btf none\n");
		return 1;
	}
	printf("KCALL btf %u\n", btf_id);

	memset(prog, 0, sizeof(prog));
	prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;	/* r1 = ARG */
	prog[0].dst_reg = BPF_REG_1;
	prog[0].imm = atoi(argv[5]);
	prog[1].code = BPF_JMP | BPF_CALL;		/* call the kfunc */
	prog[1].src_reg = BPF_PSEUDO_KFUNC_CALL;
	prog[1].off = 1;				/* fd_array[1]: its BTF */
	prog[1].imm = atoi(argv[4]);
	prog[2].code = BPF_JMP | BPF_EXIT;		/* return r0 */
	fds[0] = -1;
	fds[1] = bfd;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SYSCALL;
	a.prog_flags = BPF_F_SLEEPABLE;
	a.insns = (__u64)(unsigned long)prog;
	a.insn_cnt = 3;
	a.license = (__u64)(unsigned long)"GPL";
	a.fd_array = (__u64)(unsigned long)fds;
	a.log_buf = (__u64)(unsigned long)vlog;
	a.log_size = sizeof(vlog);
	a.log_level = 1;
	pfd = bpf(BPF_PROG_LOAD, &a);
	if (pfd < 0) {
		int err = errno;

		printf("KCALL call %s refused: %s: %s\n", argv[4], strerror(err), last_line());
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = pfd;
	if (bpf(BPF_PROG_TEST_RUN, &a)) {
		printf("KCALL call %s refused: BPF_PROG_TEST_RUN: %s\n", argv[4], strerror(errno));
		return 1;
	}
	printf("KCALL call %s retval %u\n", argv[4], a.test.retval);
	return 0;
}
