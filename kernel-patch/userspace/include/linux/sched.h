/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in: everything comes from ../../shim.h (force-included). */
