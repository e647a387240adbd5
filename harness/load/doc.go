// Package load is the module-load model: what a running kernel does with a
// module's .BTF and .BTF.base sections when the module is loaded, in one
// vocabulary (Outcome, and a Reason error wrapping a sentinel of this
// package, harness/btf or harness/recon) that the VM scenarios, compat and
// the patched-kernel cases all judge by.
//
// The rules, as Linux 6.12 and 7.2 apply them (shared/docs/reconciliation.md,
// "Kernel facts"):
//   - the kernel reads BTF only in its own byte order;
//   - with .BTF.base, the distilled base and the split are parsed and the
//     split is relocated onto vmlinux BTF (harness/recon);
//   - without it, the split is parsed directly on vmlinux: no relocation and
//     no name matching (our strict decoder stands in for the kernel's
//     metadata checks);
//   - a refusal loads the module without BTF when
//     CONFIG_MODULE_ALLOW_BTF_MISMATCH=y, and fails the load otherwise;
//   - a kfunc set's ids are mapped through the relocation's id map: an id at
//     or past its end fails the registration and the module's init, whatever
//     MODULE_ALLOW_BTF_MISMATCH says (RefuseKfuncIDPastIDMap; 6.12 and 7.2
//     read past the map instead: hostile:btf-ids-out-of-range); so are both
//     ids of every entry of a destructor kfunc table the module registers
//     (RefuseDtorIDPastIDMap).
package load
