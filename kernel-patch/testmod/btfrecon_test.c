// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the distilled-base BTF series: its BTF refers to kernel
 * types by value (an embedded list_head and spinlock, whose sizes must
 * match) and by pointer (task_struct), so relocation has to map all three.
 *
 * It also registers a kfunc for BPF_PROG_TYPE_SYSCALL programs and a
 * destructor kfunc for struct btfrecon_test. Their ids in the module's
 * .BTF_ids are in the numbering of the BTF the module was given (the
 * distilled base and split), so a BPF program can only call the kfunc, and
 * the destructor pair only passes its prototype check, if the kernel
 * remapped those ids when it relocated the module's BTF. The init message
 * says what each registration returned.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

struct btfrecon_test {
	struct list_head node;
	spinlock_t lock;
	struct task_struct *owner;
	int count;
};

struct btfrecon_test btfrecon_test_obj;
EXPORT_SYMBOL_GPL(btfrecon_test_obj);

__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "kfuncs are global functions without a prototype");

noinline int btfrecon_test_kfunc(int x)
{
	return x + 0x600d;
}

noinline void btfrecon_test_release(struct btfrecon_test *p)
{
	if (p)
		p->count--;
}

__diag_pop();

BTF_SET8_START(btfrecon_test_kfunc_ids)
BTF_ID_FLAGS(func, btfrecon_test_kfunc)
BTF_SET8_END(btfrecon_test_kfunc_ids)

static const struct btf_kfunc_id_set btfrecon_test_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &btfrecon_test_kfunc_ids,
};

BTF_ID_LIST(btfrecon_test_dtor_ids)
BTF_ID(struct, btfrecon_test)
BTF_ID(func, btfrecon_test_release)

static int __init btfrecon_test_init(void)
{
	const struct btf_id_dtor_kfunc dtors[] = {
		{
			.btf_id = btfrecon_test_dtor_ids[0],
			.kfunc_btf_id = btfrecon_test_dtor_ids[1],
		},
	};
	int err, derr;

	INIT_LIST_HEAD(&btfrecon_test_obj.node);
	spin_lock_init(&btfrecon_test_obj.lock);
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					&btfrecon_test_kfunc_set);
	if (err) {
		/* As a module's init does: a set the kernel refuses (an id
		 * past the relocation's id map) fails the load.
		 */
		pr_info("btfrecon_test: kfunc set registered: %d\n", err);
		return err;
	}
	derr = register_btf_id_dtor_kfuncs(dtors, ARRAY_SIZE(dtors),
					   THIS_MODULE);
	pr_info("btfrecon_test: loaded, kfunc set registered: %d, dtor registered: %d (ids %u %u)\n",
		err, derr, dtors[0].btf_id, dtors[0].kfunc_btf_id);
	return 0;
}

static void __exit btfrecon_test_exit(void)
{
}

module_init(btfrecon_test_init);
module_exit(btfrecon_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("BTF reconciliation test module");
