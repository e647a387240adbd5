/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in: the system's UAPI BTF header (linux-libc-dev). */
#include <linux/btf.h>
