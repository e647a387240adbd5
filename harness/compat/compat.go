// Package compat answers a distribution maintainer's question: if every
// module of one kernel build carried a distilled base (.BTF.base), which of
// them would keep their BTF when loaded on another build, and why would
// the others lose it? It runs the model (harness/recon) over a kernel
// package's modules; no VM, no oracle.
package compat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/report"
)

// DistillRefused is the verdict on a module the model cannot distill; every
// other verdict is the load model's outcome (load.Outcome).
const DistillRefused = "distill-refused"

// Result is one module's verdict.
type Result struct {
	Module  string       `json:"module"`
	Path    string       `json:"path"`
	Verdict string       `json:"predicted"` // a load.Outcome, or DistillRefused
	Reason  string       `json:"reason,omitempty"`
	Errno   int          `json:"errno,omitempty"`
	Cause   string       `json:"cause,omitempty"` // the reason without module-specific ids, for grouping
	Error   *recon.Error `json:"-"`
}

// Report is a whole run.
type Report struct {
	// Header names the kernels; its AllowMismatch says whether a refused
	// module loads without BTF (true) or not at all.
	report.Header
	Modules []Result `json:"modules"`
	Summary Summary  `json:"summary"`
}

// Summary counts a report.
type Summary struct {
	Modules int `json:"modules"`
	Keeps   int `json:"btf_kept"`
	Refused int `json:"btf_refused"` // the BTF is refused at load
	Failed  int `json:"distill_refused"`
}

// Check distills every module against build's vmlinux BTF and predicts its
// load on run (harness/load); h names the kernels. keep selects modules by
// name (nil: all).
func Check(h report.Header, build *btf.Spec, run load.Kernel, mods []corpus.Module, keep func(string) bool) (*Report, error) {
	h.AllowMismatch = run.AllowMismatch
	rep := &Report{Header: h}
	cnt := &rep.Summary
	for _, m := range mods {
		if keep != nil && !keep(m.Name) {
			continue
		}
		res := Result{Module: m.Name, Path: m.Path}
		split, err := btf.ParseSplit(m.BTF, build)
		if err != nil {
			return nil, fmt.Errorf("%s: .BTF on %s's vmlinux: %w", m.Path, h.Build, err)
		}
		var re *recon.Error
		d, s2, err := recon.Distill(build, split)
		switch {
		case errors.As(err, &re):
			res.Verdict, res.Errno, res.Error, res.Cause, res.Reason = DistillRefused, recon.Errno(err), re, cause(re), oneLine(re)
			cnt.Failed++
		case err != nil:
			return nil, fmt.Errorf("%s: %w", m.Path, err)
		default:
			p := load.Predict(run, s2.Marshal(), d.Marshal())
			res.Verdict = string(p.Outcome)
			switch {
			case p.Outcome == load.KeepsBTF:
				cnt.Keeps++
			case errors.As(p.Reason, &re):
				res.Errno, res.Error, res.Cause, res.Reason = recon.Errno(re), re, cause(re), oneLine(re)
				cnt.Refused++
			default:
				// Our own distiller's output must decode: anything else is a bug.
				return nil, fmt.Errorf("%s: distilled sections refused: %w", m.Path, p.Reason)
			}
		}
		rep.Modules = append(rep.Modules, res)
		cnt.Modules++
	}
	return rep, nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// cause names what a refusal is about without the module-specific type id,
// so modules refused for one reason group together.
func cause(e *recon.Error) string {
	t := e.Type
	t.ID = 0
	s := strings.TrimPrefix(t.String(), "[0] ")
	if e.Embedded {
		s += " embedded"
	}
	var sizes []string
	for _, c := range e.Candidates {
		if c.Kind == btf.KindStruct || c.Kind == btf.KindUnion {
			sizes = append(sizes, fmt.Sprintf("%s size=%d", c.Kind, c.Size))
		}
	}
	if len(sizes) > 0 {
		s += fmt.Sprintf(" (%s has %s)", "target", strings.Join(sizes, ", "))
	}
	return e.Reason.Error() + ": " + s
}

// WriteText writes the report for a person (and a mail): totals, then each
// cause with the modules it refuses.
func (r *Report) WriteText(w io.Writer) {
	c := r.Summary
	fmt.Fprintf(w, "btfrecon compat: modules built on %s %s, loaded on %s %s\n", r.Build, r.Arch, r.Run, r.Arch)
	fmt.Fprintf(w, "modules %d: keep BTF %d, refused at load %d, distill refused %d\n", c.Modules, c.Keeps, c.Refused, c.Failed)
	if c.Refused > 0 {
		if r.AllowMismatch {
			fmt.Fprintf(w, "(MODULE_ALLOW_BTF_MISMATCH=y on %s: a refused module loads without BTF)\n", r.Run)
		} else {
			fmt.Fprintf(w, "(MODULE_ALLOW_BTF_MISMATCH is not set on %s: a refused module fails to load)\n", r.Run)
		}
	}
	byCause := map[string][]string{}
	for _, m := range r.Modules {
		if m.Verdict != string(load.KeepsBTF) {
			byCause[m.Cause] = append(byCause[m.Cause], m.Module)
		}
	}
	causes := make([]string, 0, len(byCause))
	for c := range byCause {
		causes = append(causes, c)
	}
	sort.Slice(causes, func(i, j int) bool {
		if a, b := len(byCause[causes[i]]), len(byCause[causes[j]]); a != b {
			return a > b
		}
		return causes[i] < causes[j]
	})
	if len(causes) > 0 {
		fmt.Fprintf(w, "\nrefusals by cause:\n")
	}
	for _, c := range causes {
		mods := byCause[c]
		report.Wrap(w, fmt.Sprintf("  %d× ", len(mods)), c)
		report.Wrap(w, "      ", strings.Join(mods, " "))
	}
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
