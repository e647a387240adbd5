// Package modbuild builds an out-of-tree kernel module the way DKMS would on
// the Debian system the kernel belongs to, and holds the model's
// distillation against what that build wrote.
//
// The userland is a debootstrap chroot of the kernel's suite (trixie for
// +deb13, sid for +deb14) with the kernel's own headers packages
// (linux-headers-R-ARCH, -common, linux-kbuild-R) installed from the .debs
// harness/kernels fetched, and what they depend on from the suite: its gcc,
// make, pahole (dwarves), libelf; for arm64, the suite's cross compiler.
// Bookworm's gcc 12 and glibc 2.36 cannot run trixie's or sid's kbuild tools,
// hence a chroot. It is built once under $CACHE/chroot/<suite>-<hash of the
// package set> (Ensure): in a temporary directory, renamed into place when
// complete, so an interrupted set-up is thrown away and started over.
//
// Build copies a module's source into the chroot and runs `make -C
// /usr/src/linux-headers-<uname> M=... modules` there (after `clean`, as
// DKMS does), with one addition that does not change a byte of the output:
// kbuild's PAHOLE is a wrapper that keeps the module as pahole gets it (its
// .BTF_ids unresolved) and the split BTF pahole encodes before anything
// distills it. On 7.2 (scripts/gen-btf.sh) that split is the file pahole
// hands to resolve_btfids (--btf_encode_detached), copied as it is; on 6.12
// pahole distills internally (--btf_features=distilled_base), so the wrapper
// runs the same pahole with the same arguments once more on the kept copy
// with --btf_encode_detached, which pahole writes without distilling (the
// only use pahole makes of distilled_base is that last step of
// btf_encoder__encode; pahole 1.30).
//
// Model takes that split and the headers' vmlinux BTF and redoes what the
// kernel's build did with them, with the model: harness/recon's profile for
// the kernel (Distill, and on 7.2 the name sort) and this package's model of
// resolve_btfids for .BTF_ids (ResolveBTFIDs). Compare says, section by
// section, where the two differ.
package modbuild
