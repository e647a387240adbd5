package scenario

import (
	"fmt"
	"io"
	"strings"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// The load/unload loop (Options.Loop): after the rows, every step that
// loads with BTF and one the model refuses are loaded and unloaded again,
// round after round. Each load must give what its step gave (the same
// BTF digest, which for an identical row is the model's; the same errno);
// every unload must work; and kmemleak, where the kernel has it, must
// suspect nothing the loop allocated. A kernel that frees a relocation's
// id map or a module's BTF wrong shows it here, after enough rounds, even
// when a single load looks right.

// LoopResult is the loop's verdict.
type LoopResult struct {
	Rounds int      `json:"rounds"`
	Done   int      `json:"rounds_done"`
	Steps  []string `json:"steps"`
	Loads  int      `json:"loads"`
	// Failures are the loads or unloads that did not give what their step
	// gave, and kmemleak's complaints, one a line.
	Failures []string `json:"failures,omitempty"`
	// Kmemleak says what kmemleak found: "clean", "not in this kernel",
	// "N suspected leaks", or how it failed.
	Kmemleak string        `json:"kmemleak"`
	Leaks    []gotest.Leak `json:"leaks,omitempty"`
	OK       bool          `json:"ok"`
}

// loopPlan picks the loop's steps: every step predicted to keep its BTF
// that needs no other module (a dependency could not be unloaded under
// it), and the first case row the model refuses (its error path). nil
// when nothing qualifies.
func loopPlan(steps []step, deps map[string][]string, rounds int, kmemleak bool) *gotest.Loop {
	leaf := func(s step) bool {
		for _, d := range deps[s.Name] {
			if d != "native-"+s.Name {
				return false
			}
		}
		return true
	}
	l := &gotest.Loop{Rounds: rounds, Kmemleak: kmemleak}
	refused := ""
	for _, s := range steps {
		switch {
		case s.Dep || !leaf(s):
		case s.row.kase == nil && s.row.pred.Outcome == load.KeepsBTF:
			l.Steps = append(l.Steps, s.Name)
		case s.row.kase != nil && refused == "" && s.row.pred.Outcome != load.KeepsBTF && s.row.kase.Class != cases.Stale:
			refused = s.Name
		}
	}
	if len(l.Steps) == 0 {
		return nil
	}
	if refused != "" {
		l.Steps = append(l.Steps, refused)
	}
	return l
}

// judgeLoop reads the loop's records against the rows of the same boot
// (steps[i] gave rows[i]). requireKmemleak fails a kernel without it.
func judgeLoop(l *gotest.Loop, steps []step, rows []Row, boot *vm.Boot, requireKmemleak bool) *LoopResult {
	res := &LoopResult{Rounds: l.Rounds, Steps: l.Steps}
	idx := map[string]int{}
	for i, s := range steps {
		idx[s.Name] = i
	}
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	var scan *gotest.KmemleakScan
	var kmsg []string
	for _, rec := range boot.Records {
		kmsg = append(kmsg, rec.Kmsg...)
		switch rec.Event {
		case "loop":
			res.Done++
			for _, ld := range rec.Loads {
				res.Loads++
				i, ok := idx[ld.Step]
				if !ok {
					fail("round %d: %s: not a step of the boot", rec.Round, ld.Step)
					continue
				}
				if why := loopLoadAgrees(ld, rows[i], boot.Outcomes[i].Done); why != "" {
					fail("round %d: %s: %s", rec.Round, ld.Step, why)
				}
			}
		case "kmemleak":
			scan = rec.Kmemleak
		}
	}
	if res.Done < l.Rounds {
		fail("%d of %d rounds recorded (boot %s)", res.Done, l.Rounds, boot.Verdict)
	}
	off := gotest.KmemleakOff(kmsg)
	if off == "" {
		off = gotest.KmemleakOff(strings.Split(boot.Console, "\n"))
	}
	switch {
	case !l.Kmemleak:
		res.Kmemleak = "not asked"
	case scan == nil:
		res.Kmemleak = "no scan recorded"
		if res.Done == l.Rounds {
			fail("kmemleak: the guest recorded no scan")
		}
	case scan.Absent:
		res.Kmemleak = "not in this kernel"
		if requireKmemleak {
			fail("kmemleak: required, but the guest has no %s (%s)", gotest.KmemleakFile, scan.Error)
		}
	default:
		res.Leaks = gotest.ParseKmemleak(scan.Report)
		switch {
		case len(res.Leaks) > 0:
			res.Kmemleak = fmt.Sprintf("%d suspected leaks", len(res.Leaks))
			for _, lk := range res.Leaks {
				fail("kmemleak: unreferenced object %s (size %d, comm %q): %s", lk.Object, lk.Size, lk.Comm, strings.Join(lk.Backtrace, " < "))
			}
		case strings.TrimSpace(scan.Report) != "":
			res.Kmemleak = "unreadable report"
			fail("kmemleak: %d bytes of report, no entry read: %.200q", scan.Bytes, scan.Report)
		default:
			res.Kmemleak = "clean (two scans after the loop)"
		}
		if scan.Error != "" {
			res.Kmemleak = "failed: " + scan.Error
			fail("kmemleak: %s (a kmemleak that disabled itself refuses its commands)", scan.Error)
		}
	}
	if off != "" {
		res.Kmemleak = "disabled itself: " + off
		fail("%s", off)
	}
	res.OK = len(res.Failures) == 0
	return res
}

// loopLoadAgrees is "" when a loop load gave what its step gave: the
// same BTF digest (the model's, when the step's BTF was identical), no
// BTF where the step had none, the same errno; and an unload that worked.
func loopLoadAgrees(ld gotest.LoopLoad, row Row, first *gotest.Record) string {
	if ld.Hung {
		return "finit_module did not return"
	}
	if first == nil {
		return "its step did not finish: nothing to compare with"
	}
	var why string
	switch row.Kernel {
	case KernelBTF:
		want, what := first.SysfsSHA256, "the first load's"
		if row.Identical && row.modelSHA != "" {
			want, what = row.modelSHA, "the model's"
		}
		switch {
		case !ld.Loaded:
			why = fmt.Sprintf("refused (errno %d), loaded with BTF the first time", ld.Errno)
		case ld.SysfsSHA256 == "":
			why = "loaded without BTF, with BTF the first time"
		case ld.SysfsSHA256 != want:
			why = fmt.Sprintf("BTF sha256 %.16s, not %s %.16s", ld.SysfsSHA256, what, want)
		}
	case KernelNoBTF:
		switch {
		case !ld.Loaded:
			why = fmt.Sprintf("refused (errno %d), loaded without BTF the first time", ld.Errno)
		case ld.SysfsSHA256 != "":
			why = "loaded with BTF, without the first time"
		}
	case KernelRefused:
		switch {
		case ld.Loaded:
			why = "loaded, refused the first time"
		case ld.Errno != first.Errno:
			why = fmt.Sprintf("refused with errno %d, %d the first time", ld.Errno, first.Errno)
		}
	default:
		why = fmt.Sprintf("its step ended %s: nothing to compare with", row.Kernel)
	}
	if why == "" && ld.UnloadErr != "" {
		why = "unload: " + ld.UnloadErr
	}
	return why
}

// writeText is the loop's part of the text report.
func (l *LoopResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nload/unload loop: %d of %d rounds of %d loads (%s); kmemleak: %s\n",
		l.Done, l.Rounds, len(l.Steps), strings.Join(l.Steps, ", "), l.Kmemleak)
	if l.OK {
		fmt.Fprintf(w, "  every load gave its step's BTF or errno, every unload worked (%d loads)\n", l.Loads)
		return
	}
	for i, f := range l.Failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... %d more (--json has them all)\n", len(l.Failures)-i)
			break
		}
		wrap(w, "  FAIL: ", f)
	}
	for i, lk := range l.Leaks {
		if i == 3 {
			break
		}
		fmt.Fprintf(w, "  leak %s (size %d) backtrace:\n", lk.Object, lk.Size)
		for _, f := range lk.Backtrace {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
}
