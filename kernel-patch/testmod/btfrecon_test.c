// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the distilled-base BTF series: its BTF refers to kernel
 * types by value (an embedded list_head and spinlock, whose sizes must
 * match) and by pointer (task_struct), so relocation has to map all three.
 */
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

static int __init btfrecon_test_init(void)
{
	INIT_LIST_HEAD(&btfrecon_test_obj.node);
	spin_lock_init(&btfrecon_test_obj.lock);
	pr_info("btfrecon_test: loaded\n");
	return 0;
}

static void __exit btfrecon_test_exit(void)
{
}

module_init(btfrecon_test_init);
module_exit(btfrecon_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("BTF reconciliation test module");
