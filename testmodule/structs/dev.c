// SPDX-License-Identifier: GPL-2.0
#include <linux/fs.h>
#include <linux/module.h>
#include "btfrecon_structs.h"

static ssize_t btfrecon_structs_read(struct file *f, char __user *buf, size_t n, loff_t *pos)
{
	return 0;
}

static int btfrecon_structs_open(struct inode *inode, struct file *f)
{
	refcount_inc(&btfrecon_structs_dev.users);
	return 0;
}

static int btfrecon_structs_release(struct inode *inode, struct file *f)
{
	refcount_dec(&btfrecon_structs_dev.users);
	return 0;
}

static const struct file_operations btfrecon_structs_fops = {
	.owner = THIS_MODULE,
	.read = btfrecon_structs_read,
	.open = btfrecon_structs_open,
	.release = btfrecon_structs_release,
};

static int btfrecon_structs_hook(struct btfrecon_dev *d, struct file *f, loff_t pos)
{
	return pos > 0;
}

int btfrecon_structs_register(struct btfrecon_dev *d)
{
	d->misc.minor = MISC_DYNAMIC_MINOR;
	d->misc.name = "btfrecon_structs";
	d->misc.fops = &btfrecon_structs_fops;
	d->fops = &btfrecon_structs_fops;
	d->hook = btfrecon_structs_hook;
	return misc_register(&d->misc);
}

void btfrecon_structs_unregister(struct btfrecon_dev *d)
{
	misc_deregister(&d->misc);
}
