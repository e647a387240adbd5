// Package recon is btfrecon's model of BTF reconciliation: Distill makes a
// distilled base and a new split BTF from a module's split BTF (libbpf 1.5.0's
// btf__distill_base), and Relocate moves a split BTF from its distilled base
// onto a running kernel's base (the kernel's module load, libbpf's
// btf__relocate). Both are byte-exact models of those implementations.
//
// The rules are written down in shared/docs/reconciliation.md; each rule is
// one function here with the name the document gives it (markUsed,
// buildDistilledBase, buildNewSplit, rewriteIDs and splitString, the string
// rule, for Distill; validateDistilled, markEmbedded, matchTypes with
// TargetKey, the match key, and acceptCandidate, the acceptance table,
// rewriteIDs, rewriteStrings for Relocate), called in the document's order.
//
// Input comes decoded by harness/btf, which refuses an id or string offset
// past the end; the model checks them again where it uses them, for a Spec
// edited after decoding.
//
// Failures are *Error values that name the distilled type, the reason, the
// errno the kernel and libbpf return, and for relocation every candidate
// that was considered and why it was refused.
package recon
