// SPDX-License-Identifier: GPL-2.0
/*
 * btfrecon_test: a module whose BTF refers to kernel types in every way
 * the reconciliation rules care about. Embedded kernel structs (their size
 * must match on the running kernel), pointers to kernel structs (name only),
 * an anonymous union, an enum, a bitfield (kind_flag), a typedef chain
 * ending in a kernel type, a function prototype taking kernel types, and
 * an array of an embedded kernel struct.
 *
 * No kfunc BTF_ID set: a module's .BTF_ids are resolved by resolve_btfids
 * against the numbering the module is built with, and Debian's pahole 1.24
 * builds plain split BTF (no .BTF.base), so the ids would be stale once our
 * distiller renumbers it; the scenario leaves such modules out.
 */
#include <linux/module.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/kref.h>

enum btfrecon_state {
	BTFRECON_IDLE,
	BTFRECON_BUSY = 7,
	BTFRECON_DEAD = -1,
};

typedef struct list_head btfrecon_list_t;	/* typedef of a kernel struct */
typedef btfrecon_list_t btfrecon_list2_t;	/* typedef chain */
typedef const btfrecon_list2_t btfrecon_clist_t;

struct btfrecon_flags {
	unsigned int a : 3;	/* bitfields: kind_flag set */
	unsigned int b : 5;
	unsigned int wide : 24;
};

struct btfrecon_item {
	struct list_head node;			/* embedded kernel struct */
	btfrecon_list2_t chained;		/* embedded through a typedef chain */
	struct task_struct *owner;		/* pointer to a kernel struct */
	struct sk_buff *skb;			/* pointer to a kernel struct */
	union {					/* anonymous union */
		u64 cookie;
		void *ptr;
		struct hlist_node hnode;	/* kernel struct inside the union */
	};
	struct {				/* anonymous struct */
		enum btfrecon_state state;
		struct btfrecon_flags flags;
	};
	spinlock_t lock;			/* typedef'd kernel struct */
	wait_queue_head_t wq;
	struct kref ref;
	struct list_head ring[4];		/* array of an embedded kernel struct */
	const volatile int *cv;
};

struct btfrecon_ops {
	int (*handle)(struct btfrecon_item *item, struct sk_buff *skb);
	void (*done)(struct task_struct *t, btfrecon_clist_t *l);
};

static LIST_HEAD(btfrecon_items);
static struct btfrecon_item btfrecon_one;

static int btfrecon_handle(struct btfrecon_item *item, struct sk_buff *skb)
{
	item->skb = skb;
	return item->state;
}

static void btfrecon_done(struct task_struct *t, btfrecon_clist_t *l)
{
	btfrecon_one.owner = t;
}

struct btfrecon_ops btfrecon_test_ops = {
	.handle = btfrecon_handle,
	.done = btfrecon_done,
};
EXPORT_SYMBOL_GPL(btfrecon_test_ops);

int btfrecon_test_touch(struct btfrecon_item *item, enum btfrecon_state s);

noinline int btfrecon_test_touch(struct btfrecon_item *item, enum btfrecon_state s)
{
	item->state = s;
	item->flags.a = 1;
	return item->flags.wide;
}
EXPORT_SYMBOL_GPL(btfrecon_test_touch);

static int __init btfrecon_test_init(void)
{
	INIT_LIST_HEAD(&btfrecon_one.node);
	spin_lock_init(&btfrecon_one.lock);
	init_waitqueue_head(&btfrecon_one.wq);
	kref_init(&btfrecon_one.ref);
	list_add(&btfrecon_one.node, &btfrecon_items);
	btfrecon_one.owner = current;
	btfrecon_test_touch(&btfrecon_one, BTFRECON_BUSY);
	return 0;
}

static void __exit btfrecon_test_exit(void)
{
	list_del(&btfrecon_one.node);
}

module_init(btfrecon_test_init);
module_exit(btfrecon_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("btfrecon: kernel types embedded, pointed to and typedef'd, for BTF reconciliation tests");
