/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in: the UAPI errno values (libc reaches them through here too). */
#include_next <linux/errno.h>
