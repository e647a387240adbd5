package scenario

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// TestKASAN: a boot whose console holds a KASAN report (the report as
// 6.1's Documentation/dev-tools/kasan.rst gives the format, in a boot that
// powers off cleanly: KASAN reports and goes on) fails the scenario,
// though every row agrees and the boot verdict is clean.
func TestKASAN(t *testing.T) {
	raw, err := os.ReadFile("testdata/kasan-6.1-amd64.console")
	if err != nil {
		t.Fatal(err)
	}
	console := string(raw)
	clean := strings.Join(slices.DeleteFunc(strings.Split(console, "\n"), func(l string) bool {
		return strings.Contains(l, "KASAN: slab-out-of-bounds")
	}), "\n")
	head := "BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0xa8/0xbc [test_kasan]"
	tests := []struct {
		name     string
		console  string
		kmsg     []string
		want     []string
		disagree bool
	}{
		{"report on the console", console, nil, []string{head}, true},
		{"no report", clean, nil, nil, false},
		{"only in a record", clean, []string{"BUG: KASAN: use-after-free in btf_relocate_id+0x44/0x90"},
			[]string{"BUG: KASAN: use-after-free in btf_relocate_id+0x44/0x90"}, true},
		{"console and record, once", console, []string{head}, []string{head}, true},
		{"initialized is no report", "[    0.41] KernelAddressSanitizer initialized (generic)\n", nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &vm.Boot{Result: &vm.Result{Console: tc.console, Verdict: vm.Clean}, Records: []gotest.Record{{Event: "done", Kmsg: tc.kmsg}}}
			got := bootKASAN(b)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("bootKASAN = %q, want %q", got, tc.want)
			}
			r := &Report{Summary: Summary{BootVerdict: string(vm.Clean), KASAN: got}}
			if r.Disagree() != tc.disagree {
				t.Errorf("Disagree = %v, want %v", r.Disagree(), tc.disagree)
			}
			var sb strings.Builder
			r.WriteText(&sb)
			if tc.disagree && (!strings.Contains(sb.String(), "KASAN reports") || !strings.Contains(sb.String(), "verdict: DISAGREE")) {
				t.Errorf("text report does not say it:\n%s", sb.String())
			}
		})
	}
	// The report's trimmed form (the report text's oops) starts at it.
	if s := vm.Splat(console); len(s) == 0 || s[0] != head {
		t.Errorf("vm.Splat: %q", s)
	}
}
