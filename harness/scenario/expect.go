package scenario

import (
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// Expect judges a boot whose right answer is not "every row agrees": the
// hostile boot (a row may be a recorded kernel oops) and the boot of an
// Alone case. Every case of want must have a row; a row whose case has a
// recorded crash on the booted kernel must have stopped the guest at the
// recorded site (the model refuses it; rows after it do not run); a
// recorded message must be in the row's kernel log; every other case row
// must be refused by kernel and model alike, for the catalog's reason, and
// the boot must end cleanly unless a crash or a hang is recorded; a
// recorded hang must be a hang in that load, a recorded "keeps" a load
// with BTF the model refuses.
func Expect(r *Report, want []cases.Case) error {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	s := r.Summary
	rows := map[string]Row{}
	for _, row := range r.Rows {
		if row.kase != nil {
			rows[row.Role] = row
		}
	}
	crash, hang := "", false
	for i := range want {
		c := &want[i]
		rec := c.Kernel(s.Run, s.Arch)
		row, ok := rows[c.Label()]
		switch {
		case !ok:
			fail("%s: no row (the selected modules could not build it)", c.Label())
			continue
		case row.Predicted == load.KeepsBTF:
			fail("%s: the model accepts it (%s)", c.Label(), row.Verdict)
		case rec.Crash != "":
			crash = rec.Crash
			if row.Kernel != KernelCrashed {
				fail("%s on %s/%s: expected the recorded oops in %s, kernel: %s (%s)", c.Label(), s.Run, s.Arch, rec.Crash, row.Kernel, row.Verdict)
			}
		case rec.Hang:
			hang = true
			if row.Kernel != KernelHung {
				fail("%s on %s/%s: expected the recorded hang in this load, kernel: %s (%s)", c.Label(), s.Run, s.Arch, row.Kernel, row.Verdict)
			}
		case rec.Keeps:
			if row.Kernel != KernelBTF {
				fail("%s on %s/%s: expected the recorded load WITH BTF, kernel: %s (%s)", c.Label(), s.Run, s.Arch, row.Kernel, row.Verdict)
			}
		case row.Kernel == KernelNotRun || row.Kernel == KernelHung || row.Kernel == KernelCrashed:
			fail("%s: %s (%s)", c.Label(), row.Kernel, row.Verdict)
		case !row.Agree:
			fail("%s: kernel %s, model %s: %s", c.Label(), row.Kernel, row.Predicted, row.Verdict)
		}
		if rec.Message != "" && !anyContains(row.Kmsg, rec.Message) {
			fail("%s: kernel log lacks %q: %q", c.Label(), rec.Message, row.Kmsg)
		}
	}
	switch {
	case crash != "":
		if s.BootVerdict != string(vm.Panic) || s.CrashSite != crash {
			fail("boot: expected the recorded oops (panic in %s), got %s in %q (%s)", crash, s.BootVerdict, s.CrashSite, s.BootDetail)
		}
	case hang:
		if s.BootVerdict != string(vm.Lockup) && s.BootVerdict != string(vm.Hang) {
			fail("boot: expected the recorded hang (a lockup or the timeout), got %s (%s)", s.BootVerdict, s.BootDetail)
		}
	case s.BootVerdict != string(vm.Clean):
		fail("boot: %s %s (no crash recorded on %s/%s)", s.BootVerdict, s.BootDetail, s.Run, s.Arch)
	}
	if len(errs) > 0 {
		return fmt.Errorf("recorded expectations not met:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func anyContains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
