// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the upstream series' kernel rows (btfrecon validate, make
 * upstream-check). Built out of tree with pahole >= 1.26 it gets split BTF
 * on a distilled .BTF.base, so the kernel relocates that BTF when it loads
 * the module: its struct embeds list_head (a distilled struct whose size
 * must match) and points to task_struct. It registers one kfunc, so the
 * kfunc set's .BTF_ids id goes through btf_relocate_id() too. Its init
 * fails with the registration's error, as tcp_bbr's does: a kernel that
 * bounds the id map then refuses hostile:btf-ids-out-of-range at load.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/sched.h>

struct btfrecon_up {
	struct list_head node;
	struct task_struct *owner;
	int count;
};

__bpf_kfunc_start_defs();

__bpf_kfunc int btfrecon_up_kfunc(struct btfrecon_up *p)
{
	return p ? p->count : 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(btfrecon_up_kfunc_ids)
BTF_ID_FLAGS(func, btfrecon_up_kfunc)
BTF_KFUNCS_END(btfrecon_up_kfunc_ids)

static const struct btf_kfunc_id_set btfrecon_up_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &btfrecon_up_kfunc_ids,
};

static int __init btfrecon_up_init(void)
{
	int err;

	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL, &btfrecon_up_kfunc_set);
	pr_info("btfrecon_up: loaded, kfunc set registered: %d\n", err);
	return err;
}

static void __exit btfrecon_up_exit(void)
{
}

module_init(btfrecon_up_init);
module_exit(btfrecon_up_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Module BTF relocation test module (upstream series)");
