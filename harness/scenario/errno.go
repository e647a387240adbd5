package scenario

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// A kernel that refuses a module's BTF as it should (our 6.1 series, a
// fixed upstream) gives the errno the model gives: btf_module_notify
// prints it in "failed to validate module [m] BTF: <errno>" and the
// module notifier hands it back to finit_module. With Options.ExactErrno a
// refused case row is judged on both; without, on the refusal alone (an
// unfixed kernel's errno is whatever its checks happened to return).

// fixedErrno is the errno (negative) a fixed kernel refuses a load with,
// given the model's reason: a relocation verdict carries its own
// (-EINVAL, -ENOENT for a split string naming no matched type, -ELOOP for
// a cycle); everything else is a malformed section, which the kernel's
// parsing refuses with -EINVAL. A kfunc set past the id map fails its
// registration with -EINVAL, and the module's init with it.
func fixedErrno(reason error) int {
	if e := recon.Errno(reason); e != 0 {
		return e
	}
	return -int(syscall.EINVAL)
}

// validateMessage is btf_module_notify's line for a refused module BTF.
func validateMessage(module string, errno int) string {
	return fmt.Sprintf("%s [%s] BTF: %d", btfRefusedMessage, module, errno)
}

// judgeErrno checks a refused case row's errno against fixedErrno; the
// row already agrees that the load is refused.
func judgeErrno(row Row) Row {
	want := fixedErrno(row.pred.Reason)
	if errors.Is(row.pred.Reason, load.ErrKfuncIDRange) {
		// the module's init fails: no BTF message, finit_module's errno
		if row.Errno != -want {
			row.Agree = false
			row.Verdict = fmt.Sprintf("DISAGREE: load refused with errno %d, a fixed kernel's is %d (the kfunc set's registration)", -row.Errno, want)
			return row
		}
		row.Verdict = fmt.Sprintf("agree: load refused, errno %d as a fixed kernel gives", want)
		return row
	}
	msg := validateMessage(row.Module, want)
	switch {
	case row.Errno != -want:
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: load refused with errno %d, a fixed kernel's is %d", -row.Errno, want)
	case !anyContains(row.Kmsg, msg):
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: errno %d, but the kernel did not say %q", want, msg)
	default:
		row.Verdict = fmt.Sprintf("agree: load refused, errno %d as a fixed kernel gives (%q)", want, msg)
	}
	return row
}

// judgeRefusal judges a row the kernel must refuse for a cause outside
// the BTF model (ExtraModule.RefuseErrno): that errno, that message.
func judgeRefusal(row Row) Row {
	switch {
	case row.Kernel != KernelRefused:
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: %s, but the kernel must refuse it with errno %d (%q)", row.Kernel, row.refuseErrno, row.refuseMsg)
	case row.Errno != -row.refuseErrno:
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: load refused with errno %d, not %d", -row.Errno, row.refuseErrno)
	case row.refuseMsg != "" && !anyContains(row.Kmsg, row.refuseMsg):
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: errno %d, but the kernel did not say %q", row.refuseErrno, row.refuseMsg)
	default:
		row.Agree = true
		row.Verdict = fmt.Sprintf("agree: load refused, errno %d (%q)", row.refuseErrno, row.refuseMsg)
	}
	return row
}
