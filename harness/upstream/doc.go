// Package upstream judges the upstream fix series' kernel rows
// (kernel-patch/upstream, make upstream-check) from btfrecon's own reports:
// `btfrecon validate --json` of the unpatched and of the patched tree, and
// the `btfrecon vm run --case LABEL --json` reports of the hostile rows
// that get a boot of their own (cases.Case.Alone), run on validate's two
// kernels. It reads JSON only: what a row's kernel did, the model's
// verdict, errno, kernel messages and the boot's oops.
//
// A finding row (a hostile case whose catalog record for upstream 7.2.13
// is an oops, a hang or garbage BTF kept) reproduces when the unpatched
// kernel crashes, hangs, reports KASAN, or keeps BTF the model refuses on
// it; it is clean when the patched kernel refuses it (the load fails, or,
// with MODULE_ALLOW_BTF_MISMATCH=y, the module loads without BTF) with no
// oops or KASAN report in its boot, and the row agrees with the model. The
// other hostile rows are controls: refused cleanly, agreeing, on both.
package upstream
