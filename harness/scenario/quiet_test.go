package scenario

import (
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// TestQuietMismatch: the lines 6.1's btf.c prints for a refused module BTF
// (btf_verifier_log_type's "BPF: [id] KIND name ..." and the meta check's
// "Invalid name_offset") and the one-time notice.
func TestQuietMismatch(t *testing.T) {
	notice := "Kernel module BTF mismatch detected, BTF debug info may be unavailable for some modules"
	for _, tc := range []struct {
		name string
		kmsg [][]string
		want string
	}{
		{"quiet", [][]string{{"btfrecon_test: loading out-of-tree module taints kernel.", notice}, {"BPF: [12] Invalid name_offset:4096"}}, ""},
		{"per-type", [][]string{{notice}, {"BPF: [3] STRUCT btfrecon_test size=48 vlen=4", "BPF: member=node type_id=77 bits_offset=0", "BPF: Invalid member"}},
			`3 per-type verifier messages (first: "BPF: [3] STRUCT btfrecon_test size=48 vlen=4")`},
		{"notice twice", [][]string{{notice}, {notice}}, "the mismatch notice 2 times"},
		{"no refusal", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &vm.Boot{Result: &vm.Result{Verdict: vm.Clean}}
			for _, k := range tc.kmsg {
				b.Records = append(b.Records, gotest.Record{Event: "done", Kmsg: k})
			}
			got := quietMismatch(b)
			if got != tc.want {
				t.Errorf("quietMismatch = %q, want %q", got, tc.want)
			}
			r := &Report{Summary: Summary{BootVerdict: string(vm.Clean), MismatchLog: got}}
			if r.Disagree() != (tc.want != "") {
				t.Errorf("Disagree = %v", r.Disagree())
			}
			var sb strings.Builder
			r.WriteText(&sb)
			if tc.want != "" && !strings.Contains(sb.String(), "not quiet") {
				t.Errorf("text:\n%s", sb.String())
			}
		})
	}
}
