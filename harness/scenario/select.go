package scenario

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/kmod"
)

// Loadable is the default module selection ("all-loadable"): directories
// of the kernel package whose modules register something (a filesystem, a
// charset, a crypto algorithm, library code) at init and need no hardware,
// so they load in a bare VM. Measured on Debian 6.12.117 under TCG.
var Loadable = []string{
	"kernel/fs/",
	"kernel/lib/",
	"kernel/crypto/",
	"kernel/arch/x86/crypto/",
	"kernel/arch/arm64/crypto/",
	"kernel/net/ipv4/",
	"kernel/net/ipv6/",
	"kernel/net/netfilter/",
	"kernel/net/sched/",
	"kernel/net/bridge/",
	"kernel/net/sctp/",
	"kernel/drivers/md/",
	"kernel/block/",
	"kernel/mm/",
}

// NotLoadable are modules under Loadable that must not be loaded in the
// scenario, with why.
var NotLoadable = map[string]string{
	"tcrypt":             "runs crypto self-tests and fails its init on purpose",
	"test_bpf":           "a test module (long runtime)",
	"test_blackhole_dev": "a test module",
	"ocfs2_stack_user":   "needs a cluster stack",
	"dm_log_userspace":   "needs a userspace daemon",
	"xor":                "benchmarks at init (slow under TCG)",
	"raid6_pq":           "benchmarks at init (slow under TCG)",
}

// notLoadablePrefixes are test modules and drivers for hardware.
var notLoadablePrefixes = []string{"test_", "kunit", "ocfs2", "gfs2", "dlm"}

// SelectLoadable picks from paths (module files of a kernel package, as
// kernels.Kernel.Modules gives them) those under the Loadable directories,
// minus NotLoadable, as module names, sorted.
func SelectLoadable(paths []string) []string {
	var out []string
	for _, p := range paths {
		rel := p
		if i := strings.Index(p, "/kernel/"); i >= 0 {
			rel = p[i+1:]
		}
		if !underAny(rel, Loadable) {
			continue
		}
		name := kmod.ModName(filepath.Base(p))
		if _, bad := NotLoadable[name]; bad || hasAnyPrefix(name, notLoadablePrefixes) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func underAny(rel string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// SelectAll picks every module of paths (module files of a kernel
// package), as module names, sorted: the whole package, "--modules all".
func SelectAll(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, kmod.ModName(filepath.Base(p)))
	}
	sort.Strings(out)
	return slices.Compact(out)
}
