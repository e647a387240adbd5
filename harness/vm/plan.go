package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/report"
)

// ConsoleFile is the serial console's copy in the share; CmdlineFile the
// QEMU command line that booted it (to rerun a boot by hand).
const (
	ConsoleFile = "console.log"
	// GuestTestFile is the guest test binary as built for the boot (it
	// boots in the initramfs; the copy stays with the results).
	GuestTestFile = "gotest.test"
	CmdlineFile   = "qemu.cmdline"
)

// Boot is one boot that ran a plan.
type Boot struct {
	*Result
	Kernel  *kernels.Kernel
	Share   string // the shared directory; out/ holds the bytes the guest sent
	Plan    *gotest.Plan
	Records []gotest.Record
	// Torn: the guest died while writing its last record.
	Torn bool
	// Start and End are the guest's boot and end records (nil if missing).
	Start, End *gotest.Record
	Outcomes   []gotest.Outcome
	// Prepare is the host time spent before QEMU started (guest test build,
	// initramfs from the cache or built).
	PrepareSeconds float64
}

// Complete reports that the guest ran the whole plan and powered off.
func (b *Boot) Complete() bool { return b.Verdict == Clean && b.End != nil }

// Stuck returns the step the guest started but never finished, if any.
func (b *Boot) Stuck() (gotest.Outcome, bool) {
	for _, o := range b.Outcomes {
		if o.Started && (o.Done == nil || o.Hung) {
			return o, true
		}
	}
	return gotest.Outcome{}, false
}

// ReadFile reads a file the guest wrote into the share.
func (b *Boot) ReadFile(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(b.Share, rel))
}

// Guest is what every boot of a kernel shares: the guest test compiled
// for its arch and the initramfs with it, ready for QEMU.
type Guest struct {
	Kernel *kernels.Kernel
	// Initrd is the cached initramfs base plus the guest test; Vmlinuz the
	// image to boot and How what it is ("PVH ELF vmlinux", ...).
	Initrd, Vmlinuz, How string
	// Machine is what QEMU needs beyond the defaults for this kernel
	// (see Machine), MachineWhy why.
	Machine    []string
	MachineWhy string
	// Seconds is the host time it took (guest test build, initramfs from
	// the cache or built).
	Seconds float64
	dir     string
}

// PrepareGuest builds the guest test for k and the initrd around it, in a
// fresh directory under dir; Close removes them.
func PrepareGuest(ctx context.Context, k *kernels.Kernel, src, dir string, progress io.Writer) (*Guest, error) {
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(dir, ".guest-")
	if err != nil {
		return nil, err
	}
	g := &Guest{Kernel: k, dir: tmp}
	fail := func(err error) (*Guest, error) { g.Close(); return nil, err }
	fmt.Fprintf(progress, "vm: compiling the guest test for %s\n", k.Arch)
	guestTest := filepath.Join(tmp, GuestTestFile)
	if err := GuestTest(ctx, src, k.Arch, guestTest); err != nil {
		return fail(err)
	}
	base, err := BuildInitramfs(ctx, k, src, progress)
	if err != nil {
		return fail(err)
	}
	// The boot's initramfs: the cached base plus the guest test. QEMU reads
	// it at start-up; Close removes it.
	g.Initrd = filepath.Join(tmp, "initrd.cpio")
	if err := WithGuestTest(base, guestTest, g.Initrd); err != nil {
		return fail(err)
	}
	if g.Vmlinuz, g.How, err = BootImage(k); err != nil {
		return fail(err)
	}
	g.Machine, g.MachineWhy = Machine(k)
	g.Seconds = time.Since(start).Seconds()
	return g, nil
}

// Close removes the guest's files.
func (g *Guest) Close() error { return os.RemoveAll(g.dir) }

// RunPlan writes plan into share (module files must already be there,
// named by each Step.File), builds the guest test and the initramfs for k,
// boots k once, and reads back what the guest recorded. src is the btfrecon
// source root (see SourceRoot). A guest that crashes or hangs is a Boot
// with that verdict and whatever records it left, not an error; errors
// are for the host side.
func RunPlan(ctx context.Context, k *kernels.Kernel, src, share string, plan *gotest.Plan, progress io.Writer, opts ...Option) (*Boot, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	g, err := PrepareGuest(ctx, k, src, share, progress)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	// The guest test stays with the results (it is what ran).
	if err := copyFile(filepath.Join(g.dir, GuestTestFile), filepath.Join(share, GuestTestFile)); err != nil {
		return nil, err
	}
	return g.RunPlan(ctx, share, plan, progress, opts...)
}

// RunPlan boots the guest once for plan (see the function RunPlan).
func (g *Guest) RunPlan(ctx context.Context, share string, plan *gotest.Plan, progress io.Writer, opts ...Option) (*Boot, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	for _, s := range plan.Steps {
		if _, err := os.Stat(filepath.Join(share, s.File)); err != nil {
			return nil, fmt.Errorf("vm: plan step %s: %w", s.Name, err)
		}
	}
	prep := time.Now()
	pj, err := json.MarshalIndent(plan, "", "\t")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(share, gotest.PlanFile), pj, 0o644); err != nil {
		return nil, err
	}
	for _, stale := range []string{gotest.ResultsFile, gotest.OutDir} {
		if err := os.RemoveAll(filepath.Join(share, stale)); err != nil {
			return nil, err
		}
	}
	k := g.Kernel
	b := &Boot{Kernel: k, Share: share, Plan: plan, PrepareSeconds: g.Seconds + time.Since(prep).Seconds()}
	machine := ""
	if g.MachineWhy != "" {
		machine = ", " + g.MachineWhy
	}
	fmt.Fprintf(progress, "vm: booting %s from its %s%s (%d steps)\n", k, g.How, machine, len(plan.Steps))
	all := []Option{Arch(k.Arch), Kernel(g.Vmlinuz), Initramfs(g.Initrd), Share(share, gotest.ShareTag)}
	if len(g.Machine) > 0 {
		all = append(all, QEMUArgs(g.Machine...))
	}
	all = append(all, opts...)
	if b.Result, err = Run(ctx, all...); err != nil {
		return nil, err
	}
	// The console stays with the results: a crash's backtrace is in it.
	if err := os.WriteFile(filepath.Join(share, ConsoleFile), []byte(b.Console), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(share, CmdlineFile), []byte(b.Cmdline+"\n"), 0o644); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(share, gotest.ResultsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if b.Records, b.Torn, err = gotest.ReadRecords(raw); err != nil {
		return nil, fmt.Errorf("vm: %s: %w", filepath.Join(share, gotest.ResultsFile), err)
	}
	for i := range b.Records {
		switch b.Records[i].Event {
		case "boot":
			b.Start = &b.Records[i]
		case "end":
			b.End = &b.Records[i]
		}
	}
	b.Outcomes = gotest.Outcomes(plan, b.Records)
	fmt.Fprintf(progress, "vm: %s: %s in %.1f s (%s)%s\n", k, b.Verdict, b.Seconds, b.Accel, detail(b.Result))
	return b, nil
}

// copyFile copies a file (the guest test into a share).
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// Phases splits a boot's wall time with the guest's uptime stamps and the
// kernel's power-down line: until the guest test started (kernel, u-root
// init, 9p modules and mount, test binary start-up), the guest test's
// set-up (plan, vmlinux BTF read and parsed twice), the plan's steps, the
// way down (test exit, unmount, ACPI power-off), and the wall time off the
// kernel clock (QEMU and firmware start, kernel decompression, QEMU exit).
// Zero values where records are missing.
type Phases struct {
	ToTest   float64          `json:"to_test_s"`
	Setup    float64          `json:"setup_s"`
	Steps    float64          `json:"steps_s"`
	Shutdown float64          `json:"shutdown_s"`
	Outside  float64          `json:"outside_s"`
	Guest    map[string]int64 `json:"guest_ms,omitempty"` // the set-up's parts
}

// MarshalJSON writes the seconds rounded to 10 ms, as every report does.
func (p Phases) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ToTest   report.Seconds   `json:"to_test_s"`
		Setup    report.Seconds   `json:"setup_s"`
		Steps    report.Seconds   `json:"steps_s"`
		Shutdown report.Seconds   `json:"shutdown_s"`
		Outside  report.Seconds   `json:"outside_s"`
		Guest    map[string]int64 `json:"guest_ms,omitempty"`
	}{report.Seconds(p.ToTest), report.Seconds(p.Setup), report.Seconds(p.Steps), report.Seconds(p.Shutdown), report.Seconds(p.Outside), p.Guest})
}

var powerDownRe = regexp.MustCompile(`\[\s*([0-9]+\.[0-9]+)\] reboot: Power down`)

// Phases returns the boot's time split (see Phases).
func (b *Boot) Phases() Phases {
	var p Phases
	if b.Start == nil {
		return p
	}
	p.ToTest, p.Guest = b.Start.TestStart, b.Start.Phases
	p.Setup = b.Start.Uptime - b.Start.TestStart
	if b.End == nil {
		return p
	}
	p.Steps = b.End.Uptime - b.Start.Uptime
	down := b.End.Uptime
	if m := powerDownRe.FindStringSubmatch(b.Console); m != nil {
		if t, err := strconv.ParseFloat(m[1], 64); err == nil && t >= down {
			p.Shutdown, down = t-down, t
		}
	}
	p.Outside = b.Seconds - down
	return p
}

func detail(r *Result) string {
	if r.Detail == "" {
		return ""
	}
	return ": " + r.Detail
}
