package scenario

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/btfrecon/btfrecon/gotest"
)

// Why a module did not load, in words a reader can group by: the errno
// finit_module returned and what it means in a bare guest, or how the
// schedule of boots ended for it. The kernel's own message (the module's
// last log line) stays in the row's kmsg; the cause leaves out what
// differs from module to module, so that modules refused alike group.

// causeOf is the cause of a row whose module did not end up loaded ("" for
// one that did). loaded gives another module's row; depsOf a module's
// dependencies.
func causeOf(r Row, loaded func(string) (Row, bool), depsOf func(string) []string) string {
	switch r.Kernel {
	case KernelBTF, KernelNoBTF:
		return ""
	case KernelAlready:
		return "already loaded (built in, or loaded by the initramfs)"
	case KernelInitRunning:
		return "init still at work past its bound under emulation (its BTF judged then; the init's outcome not waited for)"
	case KernelCrashed:
		site := r.CrashSite
		if site == "" {
			site = "no oops site"
		}
		if r.btfCrash {
			return "crashed the guest in BTF code (" + site + ")"
		}
		return "crashed the guest (isolated in a boot of its own)"
	case KernelHung:
		if r.AtWork {
			return fmt.Sprintf("still at work in finit_module after %v (its kernel log or modprobe loads growing): too slow under emulation", gotest.BusyCap)
		}
		return "did not return from finit_module (isolated in a boot of its own)"
	case KernelNotRun:
		switch n := r.Note; {
		case strings.HasPrefix(n, "skipped: "):
			return "not prepared: " + depless(strings.TrimPrefix(n, "skipped: "))
		case strings.HasPrefix(n, "needs ") && strings.Contains(n, initRunningWhy):
			return "needs a module " + initRunningWhy
		case strings.HasPrefix(n, "needs "):
			return "needs a module that takes the guest down"
		case n != "":
			return n
		}
		return "not run"
	}
	// KernelRefused.
	if r.BTFRefused {
		return "refused for its BTF (failed to validate module)"
	}
	e := syscall.Errno(r.Errno)
	name := unix.ErrnoName(e)
	switch {
	case r.Errno == 524:
		return "ENOTSUPP: not supported (the kernel's own errno)"
	case name == "":
		return fmt.Sprintf("errno %d", r.Errno)
	}
	if e == unix.ENOENT && anyContains(r.Kmsg, "Unknown symbol") {
		if root, ok := rootDep(r.Module, loaded, depsOf); ok {
			why := string(root.Kernel)
			if n := unix.ErrnoName(syscall.Errno(root.Errno)); root.Kernel == KernelRefused && n != "" {
				why = n
			}
			return fmt.Sprintf("ENOENT: a module it needs did not load: %s (%s)", root.Module, why)
		}
		return "ENOENT: unknown symbol (the running kernel does not export it)"
	}
	if hint, ok := errnoHints[e]; ok {
		return name + ": " + hint
	}
	return name + ": " + e.Error()
}

// rootDep follows m's dependencies that did not load down to the first
// that did not load for a reason of its own (not an unknown symbol of a
// dependency further down).
func rootDep(m string, loaded func(string) (Row, bool), depsOf func(string) []string) (Row, bool) {
	seen := map[string]bool{m: true}
	var found Row
	ok := false
	for cur := m; ; {
		next := ""
		for _, d := range depsOf(cur) {
			if dr, has := loaded(d); has && !dr.Kernel.loaded() && !seen[d] {
				found, ok, next = dr, true, d
				break
			}
		}
		if next == "" || !(found.Kernel == KernelRefused && found.Errno == int(unix.ENOENT) && anyContains(found.Kmsg, "Unknown symbol")) {
			return found, ok
		}
		seen[next] = true
		cur = next
	}
}

// errnoHints say what an init's errno means for a module in a bare guest.
var errnoHints = map[syscall.Errno]string{
	unix.ENODEV:     "no such device (the hardware, CPU feature or firmware interface is not in the guest)",
	unix.ENXIO:      "no such device or address (no device at the address it probes)",
	unix.EBUSY:      "device or resource busy (taken by a module loaded before it)",
	unix.EIO:        "I/O error (probing hardware that is not there)",
	unix.EINVAL:     "invalid argument (a parameter or a platform it needs)",
	unix.ENOENT:     "no such file or directory (a firmware file, or something it requests at init that is not there)",
	unix.EOPNOTSUPP: "operation not supported (by this machine)",
	unix.EPERM:      "operation not permitted (by this machine)",
	unix.ETIMEDOUT:  "timed out (waiting for hardware)",
	unix.ENOMEM:     "out of memory",
	unix.EEXIST:     "exists (what it registers is registered already, by a module loaded before it)",
}

var depRe = regexp.MustCompile(`^dependency \S+: `)

// depless keeps the root of a "dependency x: dependency y: why" chain.
func depless(why string) string {
	for depRe.MatchString(why) {
		why = depRe.ReplaceAllString(why, "")
	}
	return why
}

// CauseGroup is the modules that did not load for one cause.
type CauseGroup struct {
	Cause   string   `json:"cause"`
	Modules []string `json:"modules"`
}

// groupCauses fills each row's Cause and returns the groups, biggest first.
func groupCauses(rows []Row, deps map[string][]string) []CauseGroup {
	by := map[string]Row{}
	for _, r := range rows {
		if _, ok := by[r.Module]; !ok || r.Role == RoleModule {
			by[r.Module] = r
		}
	}
	loaded := func(m string) (Row, bool) { r, ok := by[m]; return r, ok }
	groups := map[string][]string{}
	for i := range rows {
		r := &rows[i]
		if !r.counted() && r.Role != RoleModule {
			continue
		}
		if r.Cause = causeOf(*r, loaded, func(m string) []string { return deps[m] }); r.Cause != "" {
			groups[r.Cause] = append(groups[r.Cause], r.Module)
		}
	}
	var out []CauseGroup
	for c, ms := range groups {
		sort.Strings(ms)
		out = append(out, CauseGroup{c, ms})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Modules) != len(out[j].Modules) {
			return len(out[i].Modules) > len(out[j].Modules)
		}
		return out[i].Cause < out[j].Cause
	})
	return out
}
