package scenario

import (
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// Expectations for the boots whose right answer is not "every row agrees":
// the hostile boot (one row is a known kernel oops) and the typedef-cycle
// boot. `btfrecon vm run --expect hostile|cycle` checks a report with them
// and exits non-zero when the kernel or the model did anything else.

// HostileOops is the hostile row that crashes some kernels.
const HostileOops = "hostile:split-id-out-of-range"

// KnownOops lists the running kernels (release/arch) on which HostileOops
// oopses, and the function the oops stops in: what 6.12.117 did on amd64
// and arm64 (a split member type id past the end, looked up unchecked by
// the embedded-marking walk). Everywhere else the row must be refused
// without a crash like the other hostile rows.
var KnownOops = map[string]string{
	"6.12.117/amd64": "btf_relocate_map_distilled_base",
	"6.12.117/arm64": "btf_relocate_map_distilled_base",
}

// HostileKinds are the rows Hostile builds, in load order.
var HostileKinds = []string{"hostile:other-endian", "hostile:truncated", "hostile:forbidden-kind", "hostile:id-out-of-range", HostileOops}

// ExpectHostile checks a hostile boot: every hostile row was built and,
// except for a known oops, refused by both the kernel and the model with no
// crash; the known-oops row crashed the kernel at its recorded site (the
// model refuses it). Rows after the oops are not run; that is expected.
func ExpectHostile(r *Report) error {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	s := r.Summary
	site, oops := KnownOops[s.Run+"/"+s.Arch]
	rows := map[string]Row{}
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Role, "hostile:") {
			rows[row.Role] = row
		}
	}
	for _, k := range HostileKinds {
		row, ok := rows[k]
		switch {
		case !ok:
			fail("%s: no row (the selected modules could not build it)", k)
		case row.Predicted == KeepsBTF:
			fail("%s: the model accepts it (%s)", k, row.Verdict)
		case k == HostileOops && oops:
			if row.Kernel != "hung" {
				fail("%s on %s/%s: expected the recorded oops in %s, kernel: %s (%s)", k, s.Run, s.Arch, site, row.Kernel, row.Verdict)
			}
		case row.Kernel == "not-run" || row.Kernel == "hung":
			fail("%s: %s (%s)", k, row.Kernel, row.Verdict)
		case !row.Agree:
			fail("%s: kernel %s, model %s: %s", k, row.Kernel, row.Predicted, row.Verdict)
		}
	}
	if oops {
		if s.BootVerdict != string(vm.Panic) || s.CrashSite != site {
			fail("boot: expected the recorded oops (panic in %s), got %s in %q (%s)", site, s.BootVerdict, s.CrashSite, s.BootDetail)
		}
	} else if s.BootVerdict != string(vm.Clean) {
		fail("boot: %s %s (no crash expected on %s/%s)", s.BootVerdict, s.BootDetail, s.Run, s.Arch)
	}
	if len(errs) > 0 {
		return fmt.Errorf("hostile expectations not met:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// CycleMessage is what 6.12's BTF verifier says about a typedef loop.
const CycleMessage = "Max chain length or cycle detected"

// ExpectCycle checks the typedef-cycle boot: the kernel loads the module
// and drops its BTF with CycleMessage (it rejects the loop before the
// relocation's embedded-marking walk could spin), the model refuses the
// split (recon.ErrCycle), and the boot ends cleanly.
func ExpectCycle(r *Report) error {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	var row *Row
	for i := range r.Rows {
		if r.Rows[i].Role == "cycle" {
			row = &r.Rows[i]
		}
	}
	switch {
	case row == nil:
		fail("no cycle row")
	default:
		if row.Predicted == KeepsBTF {
			fail("the model accepts the cycle")
		} else if !strings.Contains(row.ModelWhy, recon.ErrCycle.Error()) {
			fail("the model refuses for another reason: %s", row.ModelWhy)
		}
		if row.Kernel != string(NoBTF) {
			fail("kernel: %s (%s), expected loaded without BTF", row.Kernel, row.Verdict)
		}
		found := false
		for _, l := range row.Kmsg {
			found = found || strings.Contains(l, CycleMessage)
		}
		if !found {
			fail("kernel log lacks %q: %q", CycleMessage, row.Kmsg)
		}
	}
	if r.Summary.BootVerdict != string(vm.Clean) {
		fail("boot: %s %s", r.Summary.BootVerdict, r.Summary.BootDetail)
	}
	if len(errs) > 0 {
		return fmt.Errorf("cycle expectations not met:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
