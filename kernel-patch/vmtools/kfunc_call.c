// SPDX-License-Identifier: GPL-2.0
/*
 * kfunc_call MODULE KFUNC_ID ARG: load a BPF_PROG_TYPE_SYSCALL program that
 * calls the kfunc with BTF id KFUNC_ID of module MODULE's BTF with ARG, run
 * it with BPF_PROG_TEST_RUN and print its return value. Built statically and
 * run in the VM scenario; raw bpf(2), no libbpf.
 *
 * Prints "KFUNC <module> retval <n>", or "KFUNC <module> refused: <why>"
 * with the verifier's last message.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char log_buf[65536];

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* fd of the BTF object named @name, or -1 */
static int module_btf_fd(const char *name)
{
	union bpf_attr attr;
	__u32 id = 0;

	for (;;) {
		struct bpf_btf_info info;
		char info_name[64];
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_BTF_GET_NEXT_ID, &attr))
			return -1;
		id = attr.next_id;

		memset(&attr, 0, sizeof(attr));
		attr.btf_id = id;
		fd = sys_bpf(BPF_BTF_GET_FD_BY_ID, &attr);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memset(info_name, 0, sizeof(info_name));
		info.name = (__u64)(unsigned long)info_name;
		info.name_len = sizeof(info_name);
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (__u64)(unsigned long)&info;
		if (!sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) &&
		    !strcmp(info_name, name))
			return fd;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	struct bpf_insn insns[3];
	union bpf_attr attr;
	int fd_array[2];
	int btf_fd, prog_fd;
	const char *mod;

	if (argc != 4) {
		fprintf(stderr, "usage: kfunc_call MODULE KFUNC_ID ARG\n");
		return 2;
	}
	mod = argv[1];
	btf_fd = module_btf_fd(mod);
	if (btf_fd < 0) {
		printf("KFUNC %s refused: no BTF object named %s\n", mod, mod);
		return 1;
	}

	memset(insns, 0, sizeof(insns));
	/* r1 = ARG */
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[0].dst_reg = BPF_REG_1;
	insns[0].imm = atoi(argv[3]);
	/* call the kfunc: BTF id in imm, fd_array index of its BTF in off */
	insns[1].code = BPF_JMP | BPF_CALL;
	insns[1].src_reg = BPF_PSEUDO_KFUNC_CALL;
	insns[1].off = 1;
	insns[1].imm = atoi(argv[2]);
	/* return its value */
	insns[2].code = BPF_JMP | BPF_EXIT;

	fd_array[0] = -1;
	fd_array[1] = btf_fd;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.prog_flags = BPF_F_SLEEPABLE;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = 3;
	attr.license = (__u64)(unsigned long)"GPL";
	attr.fd_array = (__u64)(unsigned long)fd_array;
	attr.log_buf = (__u64)(unsigned long)log_buf;
	attr.log_size = sizeof(log_buf);
	attr.log_level = 1;
	prog_fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog_fd < 0) {
		int err = errno;
		char *last;

		/* the verifier's last message before its statistics says why */
		for (;;) {
			while (*log_buf && log_buf[strlen(log_buf) - 1] == '\n')
				log_buf[strlen(log_buf) - 1] = 0;
			last = strrchr(log_buf, '\n');
			if (!last || strncmp(last + 1, "processed ", 10))
				break;
			*last = 0;
		}
		printf("KFUNC %s refused: BPF_PROG_LOAD: %s: %s\n", mod,
		       strerror(err), last ? last + 1 : log_buf);
		return 1;
	}

	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = prog_fd;
	if (sys_bpf(BPF_PROG_TEST_RUN, &attr)) {
		printf("KFUNC %s refused: BPF_PROG_TEST_RUN: %s\n", mod,
		       strerror(errno));
		return 1;
	}
	printf("KFUNC %s retval %d\n", mod, (int)attr.test.retval);
	return 0;
}
