// Package gotest is the guest side of the VM runner (harness/vm): a Go test
// (guest_test.go, build tag vmguest) that loads the modules of a Plan, reads
// /sys/kernel/btf, checks the module BTF with cilium/ebpf, records the kernel
// log, and writes the raw bytes back into the shared 9p directory. This file
// holds the protocol between host and guest, shared by both sides.
//
// The shared directory (mounted by vmtest's vmmount at /mount/9p/gotestdata)
// holds:
//
//	plan.json            the Plan (host → guest)
//	mods/...             module files named by Step.File
//	results.jsonl        one Record per line, appended as the guest goes
//	                     (a "start" record before each load, so a hang names
//	                     its step), flushed and synced after each line
//	out/<step>.btf       /sys/kernel/btf/<module> as the kernel served it
//	                     (only when its SHA-256 is not the one the step
//	                     expects: an identical file need not cross 9p)
//	out/vmlinux.btf      /sys/kernel/btf/vmlinux (when Plan.CopyVmlinux)
package gotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Files in the shared directory.
const (
	PlanFile    = "plan.json"
	ResultsFile = "results.jsonl"
	OutDir      = "out"
	ModDir      = "mods"
	VmlinuxOut  = "out/vmlinux.btf"
	// ShareTag is the 9p tag; vmtest's vmmount mounts it at /mount/9p/<tag>.
	ShareTag = "gotestdata"
	// EndMark is how the guest's last record starts (the "end" record).
	EndMark = `{"event":"end"`
	// ModprobeFile is the table the guest's /sbin/modprobe loads from
	// (Plan.Modprobe).
	ModprobeFile = "modprobe.json"
)

// finit_module flags (include/uapi/linux/module.h).
const (
	IgnoreModversions = 1
	IgnoreVermagic    = 2
	// ForceFlags is what a cross-release load of a module needs.
	ForceFlags = IgnoreModversions | IgnoreVermagic
)

// Plan is the work of one boot.
type Plan struct {
	Steps []Step `json:"steps"`
	// CopyVmlinux asks for /sys/kernel/btf/vmlinux in out/vmlinux.btf.
	CopyVmlinux bool `json:"copy_vmlinux,omitempty"`
	// Modprobe installs the guest test as /sbin/modprobe: a module that
	// asks for another at init (request_module: crypto-zstd, ts_kmp,
	// nls_koi8-u) gets it from ModprobeFile, as modprobe would load it
	// from modules.alias; each such load is a "modprobe" record.
	Modprobe bool `json:"modprobe,omitempty"`
	// StepTimeoutSeconds bounds one finit_module call as seen from the guest:
	// past it the guest records a "hung" record and moves on (the stuck
	// thread stays stuck; the host decides what the boot is worth).
	StepTimeoutSeconds int `json:"step_timeout_seconds,omitempty"`
	// Loop, when set, runs after the steps (loop.go).
	Loop *Loop `json:"loop,omitempty"`
	// StopAtSlowInit ends the plan at a step still at work in its
	// module's init past its bound once the kernel has settled its BTF
	// (InitSettled): the BTF is read then and the guest powers off, so
	// that tcrypt's self-tests under TCG do not hold a boot of thousands
	// of loads for minutes; the host boots the steps left in a new guest.
	StopAtSlowInit bool `json:"stop_at_slow_init,omitempty"`
}

// Step loads one module file.
type Step struct {
	// Name labels the step and names its output file; unique in a Plan.
	Name string `json:"name"`
	// File is the module's path relative to the shared directory.
	File string `json:"file"`
	// Module is the name the kernel gives it (/sys/kernel/btf/<Module>).
	Module string `json:"module"`
	// Flags are finit_module flags (0 or ForceFlags).
	Flags int `json:"flags"`
	// Unload removes the module after its BTF was captured, so that a
	// later step can load another build of it (before/after rows).
	Unload bool `json:"unload,omitempty"`
	// Dep marks a module loaded only because another one needs it.
	Dep bool `json:"dep,omitempty"`
	// SHA256 is the hex SHA-256 of the BTF the host expects the kernel to
	// serve: when /sys/kernel/btf/<Module> has it, the guest records the
	// digest and does not copy the bytes back. "" copies them always.
	SHA256 string `json:"sha256,omitempty"`
	// Kfuncs are asked of the verifier once the module is loaded.
	Kfuncs []KfuncProbe `json:"kfuncs,omitempty"`
	// TimeoutSeconds bounds this step's finit_module when it is longer
	// than the plan's StepTimeoutSeconds (a big module under TCG).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// BusyCap is the longest a step may take while its module is still at
// work past its own bound (Extend): under TCG tcrypt tests every
// algorithm it can load, test_bpf runs its whole suite, each for minutes.
const BusyCap = 10 * time.Minute

// Extend says whether a step still in finit_module after waited, its
// bound being timeout, gets another timeout: only while its module was at
// work in the last one (busy: its kernel log or the guest's modprobe loads
// grew) and never past BusyCap. A module whose load stopped moving is stuck.
func Extend(waited, timeout time.Duration, busy bool) bool {
	return busy && timeout > 0 && waited+timeout <= BusyCap
}

// InitSettled says, from a module's /sys/module/<m>/initstate, whether a
// load still in finit_module has had its BTF judged: the file exists from
// mod_sysfs_setup() on, after the COMING notifiers (btf_module_notify()
// parses and relocates the module's BTF and makes /sys/kernel/btf/<m>),
// and reads "coming" while only the module's init is left (load_module()
// keeps that order in 6.1, 6.12 and 7.2). A load stuck before that (in BTF
// relocation itself: an array cycle) has no such file.
func InitSettled(initstate string) bool { return strings.TrimSpace(initstate) == "coming" }

// Busy says whether a kernel log line shows a module at work: any line but
// the watchdogs' reports of a CPU or task that is stuck.
func Busy(line string) bool {
	for _, stuck := range []string{"soft lockup", "hard LOCKUP", "rcu_sched self-detected stall",
		"rcu: INFO: rcu_preempt", "self-detected stall", "blocked for more than"} {
		if strings.Contains(line, stuck) {
			return false
		}
	}
	return true
}

// Record is one line of results.jsonl.
type Record struct {
	// "boot", "start", "done", "hung", "end"; "modprobe" (a request_module
	// load), "progress" (a step past its bound while its module is at work);
	// "loop" (a round of Plan.Loop), "kmemleak" (its scans).
	Event string `json:"event"`
	Step  string `json:"step,omitempty"`
	// Module as the kernel names it.
	Module string `json:"module,omitempty"`

	Loaded  bool   `json:"loaded,omitempty"`
	Errno   int    `json:"errno,omitempty"` // positive errno of finit_module, 0 when loaded
	LoadErr string `json:"load_err,omitempty"`
	// AlreadyLoaded: EEXIST, the module was there before (a dependency
	// loaded twice, or built in).
	AlreadyLoaded bool `json:"already_loaded,omitempty"`

	HasBTF     bool `json:"has_btf,omitempty"`
	SysfsBytes int  `json:"sysfs_bytes,omitempty"`
	// SysfsFile is the copy of the bytes, relative to the shared dir; ""
	// when SysfsSHA256 is the digest the step expected.
	SysfsFile   string `json:"sysfs_file,omitempty"`
	SysfsSHA256 string `json:"sysfs_sha256,omitempty"`
	// Kfuncs are the verifier's answers to the step's KfuncProbes.
	Kfuncs []KfuncAnswer `json:"kfuncs,omitempty"`
	// Busy (a hung record): the module was still at work when BusyCap
	// ended the wait; slow, not stuck.
	Busy bool `json:"busy,omitempty"`
	// InitRunning (a done record of Plan.StopAtSlowInit): the module's
	// init was still at work past the step's bound; its BTF (HasBTF,
	// SysfsSHA256) was read then, Loaded is false and the plan ended there.
	InitRunning bool `json:"init_running,omitempty"`
	// InInit (a hung record): the load was stuck in the module's init, its
	// BTF settled; HasBTF and the digest say what the kernel served.
	InInit    bool   `json:"in_init,omitempty"`
	Unloaded  bool   `json:"unloaded,omitempty"`
	UnloadErr string `json:"unload_err,omitempty"`

	// Kmsg holds the kernel log lines printed during the step (text only).
	Kmsg []string `json:"kmsg,omitempty"`
	// Millis is the step's duration in the guest; LoadMicros the part of
	// it spent in finit_module (the rest is the guest's own overhead).
	Millis     int64 `json:"ms,omitempty"`
	LoadMicros int64 `json:"load_us,omitempty"`
	// Uptime is the guest's /proc/uptime (seconds since the kernel started)
	// when the record was written: with the host's wall time it splits a
	// boot into kernel start-up, guest set-up and module loading.
	Uptime float64 `json:"uptime,omitempty"`

	// Loop records: the round (from 1) and its loads; the kmemleak record's
	// scans.
	Round    int           `json:"round,omitempty"`
	Loads    []LoopLoad    `json:"loads,omitempty"`
	Kmemleak *KmemleakScan `json:"kmemleak,omitempty"`

	// Boot records only.
	Uname        string `json:"uname,omitempty"`
	VmlinuxBytes int    `json:"vmlinux_bytes,omitempty"`
	VmlinuxFile  string `json:"vmlinux_file,omitempty"`
	Taint        string `json:"taint,omitempty"`
	// TestStart is the guest uptime when the guest test began (after the
	// kernel, u-root's init, the 9p mount and the test binary's start-up);
	// Phases are the guest test's own set-up steps in milliseconds.
	TestStart float64          `json:"test_start,omitempty"`
	Phases    map[string]int64 `json:"phases_ms,omitempty"`
}

// ModprobeTarget is what one name request_module may ask for loads: the
// module files (relative to the share), dependencies first, and their
// finit_module flags.
type ModprobeTarget struct {
	Module string   `json:"module"`
	Files  []string `json:"files"`
	Flags  []int    `json:"flags"`
}

// ModprobeTable maps a module name or alias (as the kernel asks for it;
// '-' and '_' alike, as modprobe compares) to the modules it loads (every
// one whose aliases match, as modprobe loads them all).
type ModprobeTable map[string][]ModprobeTarget

// Lookup returns the targets for a name request_module asked for.
func (t ModprobeTable) Lookup(name string) []ModprobeTarget {
	return t[strings.ReplaceAll(name, "-", "_")]
}

// Add records that name loads target.
func (t ModprobeTable) Add(name string, target ModprobeTarget) {
	k := strings.ReplaceAll(name, "-", "_")
	t[k] = append(t[k], target)
}

// Validate checks a plan before it is written or after it is read.
func (p *Plan) Validate() error {
	seen := map[string]bool{}
	for i, s := range p.Steps {
		switch {
		case s.Name == "" || strings.ContainsAny(s.Name, "/\x00") || s.Name == "vmlinux":
			return fmt.Errorf("plan step %d: bad name %q", i, s.Name)
		case seen[s.Name]:
			return fmt.Errorf("plan step %d: duplicate name %q", i, s.Name)
		case s.File == "" || path.IsAbs(s.File) || strings.HasPrefix(path.Clean(s.File), ".."):
			return fmt.Errorf("plan step %q: file %q must be relative to the shared dir", s.Name, s.File)
		case s.Module == "" || strings.ContainsAny(s.Module, "/-"):
			return fmt.Errorf("plan step %q: bad module name %q", s.Name, s.Module)
		case s.Flags&^ForceFlags != 0:
			return fmt.Errorf("plan step %q: unknown finit_module flags %#x", s.Name, s.Flags)
		}
		seen[s.Name] = true
	}
	return p.CheckLoop()
}

// OutFile is where a step's sysfs bytes go, relative to the shared dir.
func OutFile(step string) string { return OutDir + "/" + step + ".btf" }

// ReadPlan reads and validates a plan.
func ReadPlan(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &p, p.Validate()
}

// ReadRecords parses results.jsonl. A torn last line (the guest died while
// writing it) is dropped; torn reports whether that happened.
func ReadRecords(data []byte) (recs []Record, torn bool, err error) {
	lines := bytes.Split(data, []byte("\n"))
	for i, b := range lines {
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			if i == len(lines)-1 { // no newline after it: written in part
				return recs, true, nil
			}
			return recs, false, fmt.Errorf("%s line %d: %w", ResultsFile, i+1, err)
		}
		recs = append(recs, r)
	}
	return recs, false, nil
}

// Outcome is what the records say about one step.
type Outcome struct {
	Step    Step
	Started bool
	Done    *Record // nil when the step never finished
	Hung    bool
}

// Outcomes pairs plan steps with their records, in plan order.
func Outcomes(p *Plan, recs []Record) []Outcome {
	idx := map[string]int{}
	out := make([]Outcome, len(p.Steps))
	for i, s := range p.Steps {
		out[i].Step = s
		idx[s.Name] = i
	}
	for i := range recs {
		r := &recs[i]
		j, ok := idx[r.Step]
		if !ok {
			continue
		}
		switch r.Event {
		case "start":
			out[j].Started = true
		case "done":
			out[j].Done = r
		case "hung":
			out[j].Hung = true
			out[j].Done = r
		}
	}
	return out
}
