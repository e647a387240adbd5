// SPDX-License-Identifier: GPL-2.0
/*
 * btfrecon_kfuncset: kfuncs for BPF_PROG_TYPE_SYSCALL programs, registered
 * with register_btf_kfunc_id_set, plus the other .BTF_ids shapes
 * resolve_btfids fills in: a BTF_ID_LIST of kernel and module types (struct,
 * typedef, func) and a sorted BTF_SET.
 *
 * Every id in .BTF_ids is in the numbering of the module's own BTF as its
 * build wrote it (on a distilled base: the distilled numbering; on 7.2 also
 * sorted by name), so the kernel can only use them after mapping them
 * through the relocation's id map. The kfunc names are chosen so that the
 * name order and the declaration order differ: a sort by name moves them.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>

/*
 * Before 6.7 (6.1 and its series) the kfunc helpers had other names: a
 * kfunc was a noinline function between __diag pragmas, its set a set8.
 */
#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START(name) BTF_SET8_START(name)
#define BTF_KFUNCS_END(name) BTF_SET8_END(name)
#endif
#ifndef __bpf_kfunc
#define __bpf_kfunc noinline
#endif
#ifndef __bpf_kfunc_start_defs
#define __bpf_kfunc_start_defs()					\
	__diag_push();							\
	__diag_ignore_all("-Wmissing-prototypes",			\
			  "Global kfuncs as their definitions will be in BTF")
#define __bpf_kfunc_end_defs() __diag_pop()
#endif

struct btfrecon_counter {
	struct list_head node;		/* embedded kernel struct */
	struct mutex lock;		/* embedded kernel struct */
	struct task_struct *last;	/* pointer to a kernel struct */
	u64 value;
};

typedef struct btfrecon_counter btfrecon_counter_t;

static struct btfrecon_counter btfrecon_kfuncset_counter;
static LIST_HEAD(btfrecon_kfuncset_list);

__bpf_kfunc_start_defs();

/* declared in this order; by name: add, peek, zap */
__bpf_kfunc u64 btfrecon_kfuncset_zap(void)
{
	u64 old = btfrecon_kfuncset_counter.value;

	btfrecon_kfuncset_counter.value = 0;
	return old;
}

__bpf_kfunc u64 btfrecon_kfuncset_add(u64 x)
{
	btfrecon_kfuncset_counter.value += x;
	return btfrecon_kfuncset_counter.value + 0x600d;
}

__bpf_kfunc u64 btfrecon_kfuncset_peek(void)
{
	return btfrecon_kfuncset_counter.value;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(btfrecon_kfuncset_ids)
BTF_ID_FLAGS(func, btfrecon_kfuncset_zap)
BTF_ID_FLAGS(func, btfrecon_kfuncset_add)
BTF_ID_FLAGS(func, btfrecon_kfuncset_peek)
BTF_KFUNCS_END(btfrecon_kfuncset_ids)

static const struct btf_kfunc_id_set btfrecon_kfuncset_set = {
	.owner = THIS_MODULE,
	.set = &btfrecon_kfuncset_ids,
};

/* a pure list: kernel struct, module struct, module typedef, kfunc */
BTF_ID_LIST(btfrecon_kfuncset_list_ids)
BTF_ID(struct, task_struct)
BTF_ID(struct, btfrecon_counter)
BTF_ID(typedef, btfrecon_counter_t)
BTF_ID(func, btfrecon_kfuncset_add)

/* a set: resolve_btfids sorts it by id */
BTF_SET_START(btfrecon_kfuncset_sorted)
BTF_ID(func, btfrecon_kfuncset_peek)
BTF_ID(func, btfrecon_kfuncset_zap)
BTF_ID(func, btfrecon_kfuncset_add)
BTF_SET_END(btfrecon_kfuncset_sorted)

btfrecon_counter_t *btfrecon_kfuncset_get(void);

noinline btfrecon_counter_t *btfrecon_kfuncset_get(void)
{
	return &btfrecon_kfuncset_counter;
}
EXPORT_SYMBOL_GPL(btfrecon_kfuncset_get);

static int __init btfrecon_kfuncset_init(void)
{
	int err;

	INIT_LIST_HEAD(&btfrecon_kfuncset_counter.node);
	mutex_init(&btfrecon_kfuncset_counter.lock);
	btfrecon_kfuncset_counter.last = current;
	list_add(&btfrecon_kfuncset_counter.node, &btfrecon_kfuncset_list);
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL, &btfrecon_kfuncset_set);
	pr_info("btfrecon_kfuncset: kfunc set registered: %d; list ids %u %u %u %u; set cnt %u\n",
		err, btfrecon_kfuncset_list_ids[0], btfrecon_kfuncset_list_ids[1],
		btfrecon_kfuncset_list_ids[2], btfrecon_kfuncset_list_ids[3],
		btfrecon_kfuncset_sorted.cnt);
	return 0;
}

static void __exit btfrecon_kfuncset_exit(void)
{
	list_del(&btfrecon_kfuncset_counter.node);
}

module_init(btfrecon_kfuncset_init);
module_exit(btfrecon_kfuncset_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("btfrecon: a kfunc set, a BTF_ID_LIST and a BTF_SET in .BTF_ids");
