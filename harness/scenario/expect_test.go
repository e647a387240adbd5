package scenario

import (
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/recon"
)

func hostileReport(run string, oopsRow Row, verdict, site string) *Report {
	r := &Report{Summary: Summary{Arch: "amd64", Build: "6.12.107", Run: run, BootVerdict: verdict, CrashSite: site}}
	for _, k := range HostileKinds[:4] {
		r.Rows = append(r.Rows, Row{Role: k, Predicted: NoBTF, Kernel: "no-btf", Agree: true})
	}
	oopsRow.Role, oopsRow.Predicted = HostileOops, NoBTF
	r.Rows = append(r.Rows, oopsRow, Row{Role: "module", Kernel: "not-run"})
	return r
}

func TestExpectHostile(t *testing.T) {
	const site = "btf_relocate_map_distilled_base"
	for _, tc := range []struct {
		name string
		r    *Report
		want string // "" = met
	}{
		{"known oops", hostileReport("6.12.117", Row{Kernel: "hung"}, "panic", site), ""},
		{"oops elsewhere", hostileReport("6.12.117", Row{Kernel: "hung"}, "panic", "other_fn"), "recorded oops"},
		{"117 fixed", hostileReport("6.12.117", Row{Kernel: "no-btf", Agree: true}, "clean", ""), "expected the recorded oops"},
		{"other kernel refuses", hostileReport("6.12.107", Row{Kernel: "no-btf", Agree: true}, "clean", ""), ""},
		{"other kernel oopses", hostileReport("6.12.107", Row{Kernel: "hung"}, "panic", site), "hung"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ExpectHostile(tc.r)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	r := hostileReport("6.12.117", Row{Kernel: "hung"}, "panic", site)
	r.Rows[1].Kernel, r.Rows[1].Agree = "btf", false
	if err := ExpectHostile(r); err == nil || !strings.Contains(err.Error(), "hostile:truncated") {
		t.Fatalf("a hostile row the kernel kept: %v", err)
	}
	r.Rows = r.Rows[2:]
	if err := ExpectHostile(r); err == nil || !strings.Contains(err.Error(), "no row") {
		t.Fatalf("missing rows: %v", err)
	}
}

func TestExpectCycle(t *testing.T) {
	ok := func() *Report {
		return &Report{Summary: Summary{BootVerdict: "clean"}, Rows: []Row{{Role: "cycle", Predicted: NoBTF,
			ModelWhy: "relocate: typedef [5] x: " + recon.ErrCycle.Error() + " (-ELOOP)", Kernel: "no-btf",
			Kmsg: []string{"BPF: " + CycleMessage, "Kernel module BTF mismatch detected"}}}}
	}
	if err := ExpectCycle(ok()); err != nil {
		t.Fatal(err)
	}
	r := ok()
	r.Rows[0].Kmsg = nil
	if err := ExpectCycle(r); err == nil {
		t.Fatal("no kernel message: want an error")
	}
	r = ok()
	r.Summary.BootVerdict, r.Rows[0].Kernel = "lockup", "hung"
	if err := ExpectCycle(r); err == nil || !strings.Contains(err.Error(), "lockup") {
		t.Fatalf("lockup: %v", err)
	}
	r = ok()
	r.Rows[0].Predicted = KeepsBTF
	if err := ExpectCycle(r); err == nil {
		t.Fatal("model accepts: want an error")
	}
}
