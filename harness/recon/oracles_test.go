package recon

import (
	"testing"

	"github.com/btfrecon/btfrecon/harness/oracle"
)

// The model is held against both libbpf oracles (1.5 from 6.12's tree, the
// contract's byte-exact reference, and 1.8 from 7.2's) wherever their
// behaviour is meant to agree; harness/oracle's versions_test.go pins where
// it does not. For this package that is one thing: the header 1.8 writes
// for what it distils (32 bytes, no layout section), so a distill output is
// compared with the model's under that header (asWritten); a relocated
// split keeps its input's header under both.

// oracles returns every oracle (a missing one fails the test; only
// BTFRECON_NO_ORACLE=1 skips).
func oracles(t testing.TB) []*oracle.Oracle {
	t.Helper()
	return oracle.RequireAll(t)
}

// eachOracle runs f once per oracle, as subtests named after the version.
func eachOracle(t *testing.T, f func(t *testing.T, o *oracle.Oracle)) {
	t.Helper()
	for _, o := range oracles(t) {
		t.Run(string(o.Version), func(t *testing.T) { f(t, o) })
	}
}

// asWritten is a model distill output (libbpf 1.5's 24-byte header) with
// the header o's libbpf writes.
func asWritten(t testing.TB, o *oracle.Oracle, raw []byte) []byte {
	t.Helper()
	w, err := o.Version.AsWritten(raw)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
