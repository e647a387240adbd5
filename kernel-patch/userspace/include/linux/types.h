/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in: the UAPI __u32 family, plus u32 & co from ../../shim.h. */
#include_next <linux/types.h>
