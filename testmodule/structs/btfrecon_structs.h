/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BTFRECON_STRUCTS_H
#define BTFRECON_STRUCTS_H

#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

enum btfrecon_wide {			/* ENUM64 in BTF */
	BTFRECON_WIDE_LOW = 1,
	BTFRECON_WIDE_HIGH = 0x100000000ULL,
};

struct btfrecon_packed {
	u8 tag;
	u32 len;
	u16 crc;
} __packed;

struct btfrecon_dev {
	struct miscdevice misc;		/* embeds struct list_head, struct device * */
	struct mutex lock;
	struct work_struct work;
	struct delayed_work dwork;	/* embeds struct timer_list */
	struct hrtimer hrt;
	struct completion done;
	struct rb_root tree;
	struct xarray items;
	struct kref ref;
	refcount_t users;
	wait_queue_head_t wq;
	union {				/* anonymous union of kernel types */
		struct rb_node rb;
		struct hlist_node hl;
		struct callback_head rcu;
	};
	struct btfrecon_packed hdr;
	enum btfrecon_wide wide;
	unsigned long flags[2];
	const struct file_operations *fops;
	int (*hook)(struct btfrecon_dev *d, struct file *f, loff_t pos);
};

extern struct btfrecon_dev btfrecon_structs_dev;
int btfrecon_structs_register(struct btfrecon_dev *d);
void btfrecon_structs_unregister(struct btfrecon_dev *d);

#endif
