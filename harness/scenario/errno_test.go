package scenario

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// TestJudgeErrno: boot-test.sh's rule for the patched 6.1 kernel, a
// refused row printing "failed to validate module [m] BTF: <errno>" with
// the model's errno, and finit_module returning it.
func TestJudgeErrno(t *testing.T) {
	cycle := &recon.Error{Op: "relocate", Reason: recon.ErrCycle, Errno: syscall.ELOOP}
	noName := &recon.Error{Op: "relocate", Reason: recon.ErrNoCandidate, Errno: syscall.ENOENT}
	truncated := fmt.Errorf(".BTF.base: %w", btf.ErrTruncated)
	kfunc := fmt.Errorf(".BTF_ids: kfunc set s entry 0: [2147483647]: %w (40 ids), %w", load.ErrKfuncIDRange, btf.ErrTypeIDRange)
	line := func(e int) []string {
		return []string{"btfrecon_test: module verification failed", "failed to validate module [btfrecon_test] BTF: " + fmt.Sprint(e)}
	}
	tests := []struct {
		name   string
		reason error
		errno  int // finit_module's, positive
		kmsg   []string
		agree  bool
		want   string
	}{
		{"malformed: -EINVAL", truncated, 22, line(-22), true, "errno -22 as a fixed kernel gives"},
		{"cycle: -ELOOP", cycle, 40, line(-40), true, "errno -40"},
		{"no candidate: -ENOENT", noName, 2, line(-2), true, "errno -2"},
		{"another errno", cycle, 22, line(-22), false, "refused with errno -22, a fixed kernel's is -40"},
		{"errno right, no message", truncated, 22, []string{"btfrecon_test: module verification failed"}, false, "did not say"},
		{"message with another errno", truncated, 22, line(-2), false, "did not say"},
		{"kfunc set past the id map", kfunc, 22, nil, true, "errno -22"},
		{"kfunc set, other errno", kfunc, 12, nil, false, "registration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := Row{Module: "btfrecon_test", Kernel: KernelRefused, Agree: true, Errno: tc.errno, Kmsg: tc.kmsg,
				pred: load.Prediction{Outcome: load.LoadRefused, Reason: tc.reason}}
			got := judgeErrno(row)
			if got.Agree != tc.agree || !strings.Contains(got.Verdict, tc.want) {
				t.Errorf("agree %v %q, want %v %q", got.Agree, got.Verdict, tc.agree, tc.want)
			}
		})
	}
}

// TestJudgeExactErrno: judge applies the errno rule to a refused case row
// only when the row asks for it.
func TestJudgeExactErrno(t *testing.T) {
	renamed, _ := cases.ByLabel("negative:renamed")
	reason := &recon.Error{Op: "relocate", Reason: recon.ErrNoCandidate, Errno: syscall.EINVAL}
	oc := gotest.Outcome{Started: true, Done: &gotest.Record{Errno: 2, LoadErr: "no such file or directory",
		Kmsg: []string{"failed to validate module [btfrecon_test] BTF: -2"}}}
	for _, exact := range []bool{false, true} {
		row := Row{Module: "btfrecon_test", Role: renamed.Label(), kase: &renamed, exactErrno: exact,
			pred: load.Prediction{Outcome: load.LoadRefused, Reason: reason}}
		got := judge(row, oc, &vm.Boot{Result: &vm.Result{Verdict: vm.Clean}}, share{}, nil)
		if got.Agree == exact {
			t.Errorf("exact %v: agree %v (%s): the kernel's -ENOENT is not the model's -EINVAL", exact, got.Agree, got.Verdict)
		}
	}
}

// TestJudgeRefusalAndUnload: a row the kernel must refuse for a cause the
// BTF model does not know (an old struct module), and a row that must
// unload again.
func TestJudgeRefusalAndUnload(t *testing.T) {
	const msg = "btfrecon_test: .gnu.linkonce.this_module is too small for this kernel's struct module"
	keeps := load.Prediction{Outcome: load.KeepsBTF}
	boot := &vm.Boot{Result: &vm.Result{Verdict: vm.Clean}}
	tests := []struct {
		name   string
		row    Row
		rec    gotest.Record
		agree  bool
		reason string
	}{
		{"refused as it must", Row{refuseErrno: -8, refuseMsg: msg}, gotest.Record{Errno: 8, Kmsg: []string{msg}}, true, "agree: load refused, errno -8"},
		{"refused, other errno", Row{refuseErrno: -8, refuseMsg: msg}, gotest.Record{Errno: 22, Kmsg: []string{msg}}, false, "not -8"},
		{"refused, silent", Row{refuseErrno: -8, refuseMsg: msg}, gotest.Record{Errno: 8}, false, "did not say"},
		{"loaded", Row{refuseErrno: -8, refuseMsg: msg}, gotest.Record{Loaded: true}, false, "must refuse it"},
		{"loads and unloads", Row{mustUnload: true}, gotest.Record{Loaded: true, Unloaded: true}, true, "agree: loaded, no BTF"},
		{"does not unload", Row{mustUnload: true}, gotest.Record{Loaded: true, UnloadErr: "device or resource busy"}, false, "did not unload: device or resource busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := tc.row
			row.Module, row.Role = "btfrecon_test", RoleOldHeaders
			row.pred = keeps
			if row.refuseErrno == 0 {
				row.pred = load.Prediction{Outcome: load.NoBTF}
			}
			got := judge(row, gotest.Outcome{Started: true, Done: &tc.rec}, boot, share{}, nil)
			if got.Agree != tc.agree || !strings.Contains(got.Verdict, tc.reason) {
				t.Errorf("agree %v %q, want %v %q", got.Agree, got.Verdict, tc.agree, tc.reason)
			}
			var s Summary
			s.count(got, "A")
			if (s.Disagreements == 0) != tc.agree {
				t.Errorf("%d disagreements counted", s.Disagreements)
			}
		})
	}
}
