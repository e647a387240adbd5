// Package cases is the one catalog of hand-made wrong inputs: the negative
// and hostile module sections the VM scenarios load, the patched-kernel
// scenario boots, and the three-way differential and the C core tests run.
// Each case has a name, says what it changes, builds itself from a module's
// distilled pair and the target it will meet, and records what the model
// must answer (a sentinel the load model's reason wraps) and what known
// kernels did with it.
//
// Expected answers here are worked out by hand from the contract
// (shared/docs/reconciliation.md) or recorded from a kernel, never taken
// from the model: a builder picks what to edit from the BTF's structure
// alone, so a model that answers wrongly fails the test that reads the
// case.
package cases
