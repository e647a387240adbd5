package upstream

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/cases"
)

// The testdata sides are shaped like validate's and vm run's real JSON
// (runs[].report is a scenario report; a crashed row's splat is the
// summary's), with the outcomes make upstream-check is after: unpatched,
// split-id-out-of-range oopses in the hostile boot, the array cycles hang,
// ptr-id-out-of-range loads with BTF under a KASAN report and
// btf-ids-out-of-range oopses, each alone; patched, each is refused.
func sides(t *testing.T) (*Side, *Side) {
	t.Helper()
	un, err := ReadSide("unpatched", "testdata/unpatched")
	if err != nil {
		t.Fatal(err)
	}
	pa, err := ReadSide("patched", "testdata/patched")
	if err != nil {
		t.Fatal(err)
	}
	return un, pa
}

// alone returns the row labelled l of the side's alone reports.
func alone(t *testing.T, s *Side, l string) *Row {
	t.Helper()
	for _, r := range s.Alone {
		for i := range r.Rows {
			if r.Rows[i].Role == l {
				return &r.Rows[i]
			}
		}
	}
	t.Fatalf("%s: no alone row %s", s.Name, l)
	return nil
}

func hostileRun(s *Side) *Report {
	for i, r := range s.Validate.Runs {
		if strings.HasPrefix(r.Name, "hostile:") {
			return &s.Validate.Runs[i].Report
		}
	}
	return nil
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		edit                 func(un, pa *Side)
		repro, clean         int
		ok                   bool
		lines, problems      []string // substrings of the rows' lines and the FAIL lines
		unexpectedInProblems string
	}{
		{name: "the series' record", repro: 5, clean: 5, ok: true, lines: []string{
			"hostile:split-id-out-of-range: unpatched: KASAN report (BUG: KASAN: null-ptr-deref in btf_relocate_map_distilled_base+0x2a1/0x7c0), crashed in btf_relocate_map_distilled_base | patched: BTF refused", "reproduces, clean",
			"hostile:array-cycle: unpatched: hung (no power-off before the timeout) | patched: BTF refused, loaded without it: BPF: split BTF type [15]",
			"hostile:ptr-id-out-of-range: unpatched: KASAN report (BUG: KASAN: slab-out-of-bounds in btf_relocate_rewrite_type_id+0x8c/0xd0), loaded with BTF the model refuses | patched",
			"hostile:btf-ids-out-of-range: unpatched: crashed in __register_btf_kfunc_id_set | patched: refused, -EINVAL: btfrecon_up: loaded, kfunc set registered: -22",
			"hostile:typedef-cycle: unpatched: BTF refused, loaded without it: BPF: [14] TYPEDEF", "control, refused on both",
		}},
		{name: "an oops on the patched tree is not clean", repro: 5, clean: 4,
			edit: func(un, pa *Side) {
				r := alone(t, pa, "hostile:btf-ids-out-of-range")
				r.Kernel, r.Agree, r.CrashSite = "crashed", false, "btf_relocate_id"
			},
			lines: []string{"hostile:btf-ids-out-of-range: unpatched: crashed in __register_btf_kfunc_id_set | patched: crashed in btf_relocate_id | reproduces, NOT clean"}},
		{name: "refused cleanly unpatched does not reproduce", repro: 4, clean: 5,
			edit: func(un, pa *Side) {
				r := alone(t, un, "hostile:ptr-id-out-of-range")
				r.Kernel, r.Agree, r.Kmsg = "no-btf", true, []string{"BPF: Invalid type_id"}
			},
			lines: []string{"hostile:ptr-id-out-of-range: unpatched: BTF refused, loaded without it: BPF: Invalid type_id", "does NOT reproduce, clean"}},
		{name: "garbage BTF kept reproduces without KASAN", repro: 5, clean: 5, ok: true,
			edit:  func(un, pa *Side) { alone(t, un, "hostile:ptr-id-out-of-range").Kmsg = nil },
			lines: []string{"hostile:ptr-id-out-of-range: unpatched: loaded with BTF the model refuses | patched"}},
		{name: "a KASAN report on the patched tree is not clean", repro: 5, clean: 4,
			edit: func(un, pa *Side) {
				r := alone(t, pa, "hostile:array-cycle")
				r.Kmsg = append([]string{"BUG: KASAN: slab-use-after-free in btf_relocate+0x2f/0x390"}, r.Kmsg...)
			},
			lines: []string{"patched: KASAN report (BUG: KASAN: slab-use-after-free in btf_relocate+0x2f/0x390), BTF refused", "reproduces, NOT clean"}},
		{name: "refused patched but not as the model says", repro: 5, clean: 4,
			edit:  func(un, pa *Side) { alone(t, pa, "hostile:array-typedef-cycle").Agree = false },
			lines: []string{"hostile:array-typedef-cycle:", "reproduces, NOT clean"}},
		{name: "a control that crashes fails the check", repro: 5, clean: 5,
			edit: func(un, pa *Side) {
				r := hostileRun(pa)
				r.Rows[0].Kernel, r.Rows[0].Agree = "crashed", false
				r.Summary.Splat = []string{"BUG: kernel NULL pointer dereference, address: 0000000000000007"}
			},
			problems: []string{"control hostile:other-endian: not refused cleanly on both trees"}},
		{name: "an oops in the shared hostile boot is the crashed row's, not the controls'", repro: 5, clean: 5, ok: true,
			edit:  func(un, pa *Side) {},
			lines: []string{"hostile:other-endian: unpatched: BTF refused, loaded without it: btfrecon_up: BPF: Unsupported magic"}},
		{name: "an unowned oops in the shared boot taints every row of it", repro: 5, clean: 4,
			edit: func(un, pa *Side) {
				hostileRun(pa).Summary.Splat = []string{"WARNING: CPU: 0 PID: 81 at kernel/bpf/btf.c:6410 btf_parse_module+0x1e/0x90"}
			},
			problems: []string{"control hostile:truncated: not refused cleanly on both trees"}},
		{name: "a model boot that disagrees fails the check", repro: 5, clean: 5,
			edit:     func(un, pa *Side) { pa.Validate.Runs[0].Report.Summary.Disagreements = 2 },
			problems: []string{`patched: validate's "model": 2 disagreements, boot clean`}},
		{name: "a KASAN report in a model boot fails the check", repro: 5, clean: 5,
			edit: func(un, pa *Side) {
				un.Validate.Runs[2].Report.Summary.Splat = []string{"BUG: KASAN: slab-out-of-bounds in btf_parse_module+0x11/0x90"}
			},
			problems: []string{`unpatched: validate's "model, reversed": the boot reported BUG: KASAN: slab-out-of-bounds`}},
		{name: "the unpatched hostile boot's disagreements are the rows' to judge", repro: 5, clean: 5, ok: true,
			edit: func(un, pa *Side) {}, unexpectedInProblems: `"hostile"`},
		{name: "a row missing on one side", repro: 5, clean: 4,
			edit:     func(un, pa *Side) { pa.Alone = pa.Alone[1:] }, // case-array-cycle.json is the first
			lines:    []string{"hostile:array-cycle: unpatched: hung (no power-off before the timeout) | patched: no row | reproduces, NOT clean"},
			problems: []string{"hostile:array-cycle: no row (unpatched true, patched false)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			un, pa := sides(t)
			if tc.edit != nil {
				tc.edit(un, pa)
			}
			res := Judge(un, pa, cases.Module(), "7.2.13+deb14")
			var b bytes.Buffer
			res.Write(&b)
			out := b.String()
			if res.K != 5 || res.Reproduce != tc.repro || res.Cleaned != tc.clean || res.OK() != tc.ok {
				t.Errorf("K %d, reproduce %d, clean %d, ok %v; want 5, %d, %d, %v\n%s", res.K, res.Reproduce, res.Cleaned, res.OK(), tc.repro, tc.clean, tc.ok, out)
			}
			want := []string{}
			for _, l := range tc.lines {
				want = append(want, l)
			}
			for _, p := range tc.problems {
				want = append(want, "FAIL: "+p)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.ok && strings.Contains(out, "FAIL") || tc.unexpectedInProblems != "" && strings.Contains(out, tc.unexpectedInProblems) {
				t.Errorf("unexpected failure:\n%s", out)
			}
			last := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
			if want := "kernel: unpatched " + itoa(tc.repro) + "/5 reproduce, patched " + itoa(tc.clean) + "/5 clean\n"; last != want {
				t.Errorf("last line %q, want %q", last, want)
			}
			if n := strings.Count(out, "hostile:"); n < 11 {
				t.Errorf("%d rows, want one per hostile case (11):\n%s", n, out)
			}
		})
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"missing", "testdata/none/validate.json"},
		{"a vm report is not validate's", "testdata/unpatched/case-array-cycle.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadValidate(tc.path); !errors.Is(err, ErrReport) {
				t.Fatalf("err %v, want ErrReport", err)
			}
		})
	}
	if _, err := ReadVM("testdata/unpatched/validate.json"); !errors.Is(err, ErrReport) {
		t.Fatalf("validate's report read as vm run's: %v", err)
	}
}
