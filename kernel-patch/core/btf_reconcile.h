/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reconcile a module's split BTF, built on a distilled base, with the
 * running kernel's BTF.
 */
#ifndef _BTF_RECONCILE_H
#define _BTF_RECONCILE_H

#include <linux/types.h>

int btf_reconcile(const char *name, const void *dist, u32 dist_size,
		  void *split, u32 split_size, const void *base, u32 base_size,
		  u32 **id_map, u32 *id_map_cnt);

#endif /* _BTF_RECONCILE_H */
