package upstream

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cases"
)

// Side is one tree's evidence: validate's report, and the reports of the
// rows booted alone on validate's kernels (vm run --case).
type Side struct {
	Name     string
	Validate *Validate
	Alone    []*Report
	rows     map[string]Outcome
}

// ReadSide reads DIR/validate.json and every DIR/case-*.json.
func ReadSide(name, dir string) (*Side, error) {
	v, err := ReadValidate(filepath.Join(dir, "validate.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &Side{Name: name, Validate: v}
	files, err := filepath.Glob(filepath.Join(dir, "case-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		r, err := ReadVM(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.Alone = append(s.Alone, r)
	}
	return s, nil
}

// outcomes are the side's hostile rows by label: validate's, then the
// alone boots'. A label met twice keeps the first.
func (s *Side) outcomes() map[string]Outcome {
	if s.rows != nil {
		return s.rows
	}
	s.rows = map[string]Outcome{}
	add := func(r *Report) {
		for l, o := range outcomes(r) {
			if _, seen := s.rows[l]; !seen && strings.HasPrefix(l, string(cases.Hostile)+":") {
				s.rows[l] = o
			}
		}
	}
	for i := range s.Validate.Runs {
		add(&s.Validate.Runs[i].Report)
	}
	for _, r := range s.Alone {
		add(r)
	}
	return s.rows
}

// Verdict is one hostile row on both trees.
type Verdict struct {
	Label              string
	Finding            bool   // the catalog records a bug for upstream
	Record             string // what it records
	Unpatched, Patched Outcome
	Reproduces         bool // the unpatched kernel crashed, hung, reported KASAN or kept garbage BTF
	Clean              bool // the patched kernel refused it cleanly, as the model does
}

// Result is the kernel rows' judgement.
type Result struct {
	Rows     []Verdict
	Problems []string // what fails the check besides the rows' counts
	// K finding rows, Reproduce of them reproduce unpatched, Cleaned are
	// clean patched.
	K, Reproduce, Cleaned int
}

// OK: every finding reproduces and is clean, and nothing else failed.
func (r *Result) OK() bool {
	return len(r.Problems) == 0 && r.K > 0 && r.Reproduce == r.K && r.Cleaned == r.K
}

// record is what the catalog holds about c for upstream (release, arch),
// and whether that is a bug.
func record(c cases.Case, release, arch string) (string, bool) {
	k := c.Kernel(release, arch)
	switch {
	case k.Crash != "":
		return "oops in " + k.Crash, true
	case k.Hang:
		return "the load never returns", true
	case k.Keeps:
		return "loads with BTF the model refuses", true
	case k.Message != "":
		return "refused: " + k.Message, false
	}
	return "refused", false
}

// reproduces: the unpatched kernel shows the bug.
func reproduces(o Outcome) bool {
	return o.Crash != "" || o.Kernel == "hung" || o.KASAN != "" || o.Kernel == "btf" && !o.Agree
}

// refusedCleanly: the BTF (or the load) refused as the model says, no oops
// or KASAN report in the boot.
func refusedCleanly(o Outcome) bool {
	return (o.Kernel == "load-failed" || o.Kernel == "no-btf") && o.Agree && o.KASAN == "" && o.Splat == ""
}

// Judge holds every hostile case of the catalog to the two sides: a case
// upstream has a bug for (its record for release) must reproduce unpatched
// and be clean patched; every other one is a control, refused cleanly on
// both. Every validate run but the hostile rows' must agree on both sides,
// and no boot may hold an oops or KASAN report no hostile row owns.
func Judge(unpatched, patched *Side, catalog []cases.Case, release string) *Result {
	res := &Result{}
	arch := patched.Validate.Arch
	for _, s := range []*Side{unpatched, patched} {
		for _, run := range s.Validate.Runs {
			r := run.Report
			name := strings.SplitN(run.Name, ":", 2)[0]
			if name == string(cases.Hostile) {
				continue // judged row by row
			}
			if r.Disagree() {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: validate's %q: %d disagreements, boot %s", s.Name, name, r.Summary.Disagreements, r.Summary.BootVerdict))
			}
			if len(r.Summary.Splat) > 0 {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: validate's %q: the boot reported %s", s.Name, name, r.Summary.Splat[0]))
			}
		}
	}
	un, pa := unpatched.outcomes(), patched.outcomes()
	for _, c := range catalog {
		if c.Class != cases.Hostile {
			continue
		}
		v := Verdict{Label: c.Label(), Unpatched: un[c.Label()], Patched: pa[c.Label()]}
		v.Record, v.Finding = record(c, release, arch)
		if !v.Unpatched.Found || !v.Patched.Found {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: no row (unpatched %v, patched %v)", v.Label, v.Unpatched.Found, v.Patched.Found))
		}
		v.Clean = refusedCleanly(v.Patched)
		if v.Finding {
			res.K++
			v.Reproduces = reproduces(v.Unpatched)
			if v.Reproduces {
				res.Reproduce++
			}
			if v.Clean {
				res.Cleaned++
			}
		} else {
			v.Clean = v.Clean && refusedCleanly(v.Unpatched)
			if !v.Clean {
				res.Problems = append(res.Problems, fmt.Sprintf("control %s: not refused cleanly on both trees", v.Label))
			}
		}
		res.Rows = append(res.Rows, v)
	}
	return res
}

// Write prints a line per row, the problems, and the counts line.
func (r *Result) Write(w io.Writer) {
	for _, v := range r.Rows {
		var verdict string
		switch {
		case !v.Finding && v.Clean:
			verdict = "control, refused on both"
		case !v.Finding:
			verdict = "control, FAIL"
		default:
			verdict = yes(v.Reproduces, "reproduces", "does NOT reproduce") + ", " + yes(v.Clean, "clean", "NOT clean")
		}
		fmt.Fprintf(w, "%s: unpatched: %s | patched: %s | %s (recorded upstream: %s)\n",
			v.Label, v.Unpatched, v.Patched, verdict, v.Record)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "FAIL: %s\n", p)
	}
	fmt.Fprintf(w, "kernel: unpatched %d/%d reproduce, patched %d/%d clean\n", r.Reproduce, r.K, r.Cleaned, r.K)
}

func yes(b bool, y, n string) string {
	if b {
		return y
	}
	return n
}
