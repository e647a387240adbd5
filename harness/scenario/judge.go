package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/diff"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// sysfs reads a file the guest copied into the share.
type sysfs interface {
	ReadFile(name string) ([]byte, error)
}

// kernelOutcome classifies what the guest recorded for one step.
func kernelOutcome(oc gotest.Outcome, crashed bool) KernelOutcome {
	d := oc.Done
	switch {
	case !oc.Started:
		return KernelNotRun
	case d == nil || oc.Hung:
		if crashed {
			return KernelCrashed
		}
		return KernelHung
	case d.InitRunning:
		return KernelInitRunning
	case d.AlreadyLoaded && !d.HasBTF:
		// Loaded before its step (request_module, another's init) with
		// BTF is judged as any load: every load here is of our files.
		return KernelAlready
	case !d.Loaded:
		return KernelRefused
	case d.HasBTF:
		return KernelBTF
	}
	return KernelNoBTF
}

// judge compares the kernel's outcome for one step with the prediction
// (and, for a case row, the model's reason with the catalog's).
func judge(row Row, oc gotest.Outcome, boot *vm.Boot, share sysfs, target *btf.Spec) Row {
	row.Kernel = kernelOutcome(oc, boot.Verdict == vm.Panic)
	d := oc.Done
	if d != nil && d.AlreadyLoaded && d.HasBTF {
		row.Note = "loaded before its step (request_module, or another module's init)"
	}
	if d != nil {
		row.Kmsg, row.Millis, row.SysfsBytes, row.LoadErr, row.Errno = btfLines(d.Kmsg), d.Millis, d.SysfsBytes, d.LoadErr, d.Errno
		if row.Role != RoleModule && row.Role != RoleDep || !d.Loaded {
			// The case rows and failed loads keep every line: a failure's
			// cause is in them.
			row.Kmsg = notTaint(d.Kmsg)
		}
	}
	p := row.pred
	if row.refuseErrno != 0 && row.Kernel != KernelNotRun {
		return judgeRefusal(row)
	}
	switch row.Kernel {
	case KernelNotRun:
		row.Verdict = "not run: the boot ended before it (" + string(boot.Verdict) + ")"
		return row
	case KernelHung:
		row.Verdict = fmt.Sprintf("guest stuck in this load (boot %s)", boot.Verdict)
		if row.AtWork = d != nil && d.Busy; row.AtWork {
			row.Verdict = fmt.Sprintf("still at work in this load after %v, the guest's cap (boot %s)", gotest.BusyCap, boot.Verdict)
		}
		if d != nil && d.InInit {
			row = judgeStuckInInit(row, share, d, target)
		}
		return row
	case KernelCrashed:
		row.Verdict = "kernel crashed in this load"
		if boot.CrashSite != "" {
			row.Verdict += " (in " + boot.CrashSite + ")"
		}
		return row
	case KernelAlready:
		row.Verdict = "not judged: the module was already loaded"
		return row
	case KernelInitRunning:
		return judgeInitRunning(row, share, d, target)
	case KernelRefused:
		row.Agree = p.Outcome == load.LoadRefused
		row.BTFRefused = anyContains(row.Kmsg, btfRefusedMessage)
		switch {
		case row.Agree:
			row.Verdict = "agree: load refused"
		case row.BTFRefused:
			row.Verdict = "DISAGREE: the kernel refused the module's BTF, the model keeps it"
		default:
			row.Verdict = "load failed (" + row.LoadErr + ")"
		}
	case KernelNoBTF:
		row = judgeNoBTF(row, "agree: loaded, no BTF")
	case KernelBTF:
		row = compareBTF(row, share, d, target)
		if row.Agree {
			row = judgeRegistered(row, d.Kmsg)
		}
		if row.Agree && len(row.kfuncs) > 0 {
			row = judgeKfuncs(row, d.Kfuncs)
		}
		if row.Agree && len(row.progs) > 0 {
			row = judgePrograms(row, d.Kfuncs)
		}
	}
	if row.Agree && row.mustUnload && d != nil && d.Loaded && !d.AlreadyLoaded && !d.Unloaded {
		row.Agree = false
		row.Verdict = "DISAGREE: " + row.Verdict + ", but it did not unload: " + d.UnloadErr
	}
	if k := row.kase; k != nil {
		switch {
		case k.Class == cases.Stale:
			// The problem shown: informational.
			row.Agree, row.Verdict = true, "before (no .BTF.base): "+string(row.Kernel)
		case row.Agree && !errors.Is(p.Reason, k.Model):
			row.Agree = false
			row.Verdict = fmt.Sprintf("DISAGREE: the model refuses for another reason than the catalog's (%v)", k.Model)
		case row.Agree && row.exactErrno && row.Kernel == KernelRefused:
			row = judgeErrno(row)
		}
	}
	return row
}

// judgeInitRunning judges a module whose init was still at work when the
// guest read its BTF: the kernel had settled the BTF (served or dropped)
// before the init began, so that is judged; what the init registers (kfunc
// sets, destructors) and whether it returns 0 are not known.
func judgeInitRunning(row Row, share sysfs, d *gotest.Record, target *btf.Spec) Row {
	wait := fmt.Sprintf("init still at work after %.0f s, not waited for", float64(d.Millis)/1000)
	if d.HasBTF {
		row = compareBTF(row, share, d, target)
	} else {
		row = judgeNoBTF(row, "agree: no BTF")
	}
	row.Verdict += " (" + wait + ")"
	return row
}

// judgeStuckInInit adds to a hung row whose load was stuck in the module's
// init the judgement of the BTF the kernel settled before it: the row stays
// hung (the schedule isolates it), its BTF is identical or a difference.
func judgeStuckInInit(row Row, share sysfs, d *gotest.Record, target *btf.Spec) Row {
	hung := row.Verdict
	var j Row
	if d.HasBTF {
		j = compareBTF(row, share, d, target)
	} else {
		j = judgeNoBTF(row, "no BTF, as the model says")
	}
	j.InitBTFDisagrees = !j.Agree
	j.Kernel, j.Agree, j.AtWork, j.InInit = KernelHung, false, row.AtWork, true
	j.Verdict = hung + "; in its init, the BTF served before it: " + j.Verdict
	return j
}

// judgeNoBTF judges a module the kernel serves no BTF for: agreed (with
// the verdict given) when the model drops it too.
func judgeNoBTF(row Row, agree string) Row {
	row.Agree = row.pred.Outcome == load.NoBTF
	row.Verdict = agree
	if !row.Agree {
		row.Verdict = "DISAGREE: kernel dropped the BTF, the model relocates it"
	}
	return row
}

// compareBTF judges a row whose module kept its BTF: sysfs against the
// model's relocation, byte for byte. When the guest's digest of the sysfs
// bytes is the digest of the model's bytes, the guest did not copy them:
// they are the model's (SHA-256), and row.served holds those.
func compareBTF(row Row, share sysfs, d *gotest.Record, target *btf.Spec) Row {
	p := row.pred
	if p.Outcome != load.KeepsBTF {
		row.Verdict = "DISAGREE: kernel kept BTF the model refuses"
		return row
	}
	if d.SysfsFile == "" && d.SysfsSHA256 != "" && d.SysfsSHA256 == row.modelSHA {
		row.served = p.Model.Marshal()
		row.ModelBytes, row.Identical, row.Agree = len(row.served), true, true
		row.SysfsSHA256 = d.SysfsSHA256
		row.Verdict = "identical"
		return row
	}
	file := d.SysfsFile
	if file == "" {
		row.Verdict = fmt.Sprintf("sysfs copy missing: the guest's digest %.12s is not the model's %.12s and no copy came back", d.SysfsSHA256, row.modelSHA)
		return row
	}
	raw, err := share.ReadFile(file)
	if err != nil {
		row.Verdict = "sysfs copy missing: " + err.Error()
		return row
	}
	r := diff.Compare(raw, p.Model, target, p.IDMap, p.ND)
	row.ModelBytes, row.Identical, row.Agree = r.ModelBytes, r.Identical, r.Identical
	row.served = raw
	if r.Identical {
		row.Verdict = "identical"
		return row
	}
	row.Verdict = fmt.Sprintf("DIFFERENT at byte %d", r.FirstDiffAt)
	var b strings.Builder
	r.Write(&b, row.Module)
	row.Diff = b.String()
	return row
}

// btfRefusedMessage is how the kernel says a load failed on the module's
// BTF (btf_module_notify, MODULE_ALLOW_BTF_MISMATCH not set).
const btfRefusedMessage = "failed to validate module"

// btfLines keeps the kernel log lines about BTF.
func btfLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "BTF") || strings.Contains(l, "btf") {
			out = append(out, l)
		}
	}
	return out
}

// notTaint drops the lines every unsigned or forced load prints.
func notTaint(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, "taints kernel") && !strings.Contains(l, "kernel tainted") &&
			!strings.Contains(l, "module verification failed") && !strings.Contains(l, "Disabling lock debugging") {
			out = append(out, l)
		}
	}
	return out
}
