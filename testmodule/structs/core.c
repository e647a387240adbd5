// SPDX-License-Identifier: GPL-2.0
/*
 * btfrecon_structs: kernel structs embedded by value in module types, split
 * over two files so pahole merges two CUs.
 */
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/version.h>
#include "btfrecon_structs.h"

static DEFINE_PER_CPU(u64, btfrecon_structs_hits);

struct btfrecon_dev btfrecon_structs_dev;

static void btfrecon_structs_work(struct work_struct *w)
{
	struct btfrecon_dev *d = container_of(w, struct btfrecon_dev, work);

	this_cpu_inc(btfrecon_structs_hits);
	complete(&d->done);
}

static void btfrecon_structs_dwork(struct work_struct *w)
{
	this_cpu_inc(btfrecon_structs_hits);
}

static enum hrtimer_restart btfrecon_structs_hrt(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

static int __init btfrecon_structs_init(void)
{
	struct btfrecon_dev *d = &btfrecon_structs_dev;

	mutex_init(&d->lock);
	INIT_WORK(&d->work, btfrecon_structs_work);
	INIT_DELAYED_WORK(&d->dwork, btfrecon_structs_dwork);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(&d->hrt, btfrecon_structs_hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
#else
	hrtimer_init(&d->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	d->hrt.function = btfrecon_structs_hrt;
#endif
	init_completion(&d->done);
	d->tree = RB_ROOT;
	xa_init(&d->items);
	kref_init(&d->ref);
	refcount_set(&d->users, 1);
	init_waitqueue_head(&d->wq);
	d->hdr.tag = 1;
	d->wide = BTFRECON_WIDE_HIGH;
	schedule_work(&d->work);
	wait_for_completion(&d->done);
	return btfrecon_structs_register(d);
}

static void __exit btfrecon_structs_exit(void)
{
	struct btfrecon_dev *d = &btfrecon_structs_dev;

	btfrecon_structs_unregister(d);
	cancel_delayed_work_sync(&d->dwork);
	hrtimer_cancel(&d->hrt);
	xa_destroy(&d->items);
}

module_init(btfrecon_structs_init);
module_exit(btfrecon_structs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("btfrecon: kernel structs embedded in module types, two CUs, a misc device, a per-CPU variable");
