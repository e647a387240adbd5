package gotest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The load/unload loop a plan may end with (Plan.Loop): once every step
// ran, the loop's steps are loaded and unloaded again, Rounds times, each
// load's BTF digest read (a module still loaded from its step is unloaded
// first); then, where the kernel has kmemleak, two scans. A "loop" record
// per round holds its loads, a "kmemleak" record the scans' report.

// KmemleakFile is kmemleak's debugfs file.
const KmemleakFile = "/sys/kernel/debug/kmemleak"

// MaxLeakReport caps the kmemleak report a record carries: the first
// leaks' backtraces say where to look, the count says how many.
const MaxLeakReport = 32 << 10

// Loop is the loop of a plan.
type Loop struct {
	Rounds int `json:"rounds"`
	// Steps are names of plan steps, loaded in this order each round;
	// each is unloaded before the next loads.
	Steps []string `json:"steps"`
	// Kmemleak scans after the rounds where the kernel has kmemleak (the
	// guest mounts debugfs if it must), and clears what was suspected
	// before them: what the loop leaks is reported, not what boot left.
	Kmemleak bool `json:"kmemleak,omitempty"`
}

// LoopLoad is one load of a loop round.
type LoopLoad struct {
	Step   string `json:"step"`
	Loaded bool   `json:"loaded,omitempty"`
	Errno  int    `json:"errno,omitempty"` // positive errno of finit_module
	// SysfsSHA256 is the digest of /sys/kernel/btf/<module> ("" without).
	SysfsSHA256 string `json:"sysfs_sha256,omitempty"`
	UnloadErr   string `json:"unload_err,omitempty"`
	// Hung: finit_module did not return in the step's bound; the loop
	// stopped there.
	Hung bool `json:"hung,omitempty"`
}

// KmemleakScan is what the guest found in kmemleak after the loop.
type KmemleakScan struct {
	// Absent: no kmemleak file (a kernel without DEBUG_KMEMLEAK, or
	// debugfs could not be mounted; Error says which).
	Absent bool `json:"absent,omitempty"`
	// Error is a write of "scan" or "clear" the kernel refused (kmemleak
	// disabled itself: EPERM), or the read that failed.
	Error string `json:"error,omitempty"`
	// Report is the file's text after the scans (at most MaxLeakReport
	// bytes); Bytes how long it was.
	Report string `json:"report,omitempty"`
	Bytes  int    `json:"bytes,omitempty"`
}

// CheckLoop checks a plan's loop against its steps.
func (p *Plan) CheckLoop() error {
	l := p.Loop
	if l == nil {
		return nil
	}
	if l.Rounds < 0 {
		return fmt.Errorf("plan loop: %d rounds", l.Rounds)
	}
	names := map[string]bool{}
	for _, s := range p.Steps {
		names[s.Name] = true
	}
	for _, n := range l.Steps {
		if !names[n] {
			return fmt.Errorf("plan loop: step %q is not a step of the plan", n)
		}
	}
	return nil
}

// Leak is one suspected leak of a kmemleak report.
type Leak struct {
	Object    string   `json:"object"` // its address as kmemleak prints it
	Size      int      `json:"size"`
	Comm      string   `json:"comm,omitempty"` // the task that allocated it
	Backtrace []string `json:"backtrace"`      // function+off/size, innermost first
}

var (
	leakHeadRe  = regexp.MustCompile(`^unreferenced object (0x[0-9a-f]+) \(size ([0-9]+)\):`)
	leakCommRe  = regexp.MustCompile(`^\s+comm "([^"]*)"`)
	leakFrameRe = regexp.MustCompile(`^\s+\[<[0-9a-f]+>\] (\S+)`)
)

// ParseKmemleak reads /sys/kernel/debug/kmemleak's text (mm/kmemleak.c's
// print_unreferenced: a head line, comm, a hex dump, "backtrace:" and one
// "[<addr>] sym+off/size" a frame). A torn last entry (the report was
// capped) keeps what it has.
func ParseKmemleak(text string) []Leak {
	var out []Leak
	inTrace := false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, "\r ")
		if m := leakHeadRe.FindStringSubmatch(l); m != nil {
			size, _ := strconv.Atoi(m[2])
			out = append(out, Leak{Object: m[1], Size: size})
			inTrace = false
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		switch {
		case strings.TrimSpace(l) == "backtrace:" || strings.HasPrefix(strings.TrimSpace(l), "backtrace (crc"):
			inTrace = true
		case inTrace:
			if m := leakFrameRe.FindStringSubmatch(l); m != nil {
				cur.Backtrace = append(cur.Backtrace, m[1])
			}
		default:
			if m := leakCommRe.FindStringSubmatch(l); m != nil {
				cur.Comm = m[1]
			}
		}
	}
	return out
}

// kmemleakOffRe matches how kmemleak says it stopped: "Kernel memory leak
// detector disabled" (kmemleak_disable, after an internal error or
// kmemleak=off), "Cannot allocate a kmemleak_object structure", and the
// early pool running out.
var kmemleakOffRe = regexp.MustCompile(`kmemleak: (.*(disabled|Cannot allocate|Memory pool empty).*)`)

// KmemleakOff returns the first kernel log line that says kmemleak
// disabled itself, or "".
func KmemleakOff(lines []string) string {
	for _, l := range lines {
		if m := kmemleakOffRe.FindStringSubmatch(l); m != nil {
			return "kmemleak: " + m[1]
		}
	}
	return ""
}
