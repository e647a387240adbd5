package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/report"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// runner boots the prepared steps and turns the boots into the report.
type runner struct {
	o      Options
	B      *kernelSide
	src    string
	work   string
	rep    *Report
	cilium *cbtf.Spec
	logf   func(string, ...any)
	all    map[string]step // every prepared step, by name (a schedule)
	// learned are the steps' costs measured by earlier runs (a schedule).
	learned costs

	mu sync.Mutex // rep.Boots, from boots running side by side
}

// stepTimeout is Options.StepTimeout, 120 s when unset.
func (r *runner) stepTimeout() int {
	if r.o.StepTimeout > 0 {
		return int(r.o.StepTimeout.Seconds())
	}
	return 120
}

// stepFor is a step as a plan carries it: with a bound on its load that
// grows with the module (20 s a MiB on top of the plan's: under TCG on a
// busy host amdgpu's 29 MiB took from 21 s to over a minute, test_bpf's
// 4.7 MiB, which runs its test suite at init, 110 s).
// A module an earlier run timed gets at least five times what it took.
func (r *runner) stepFor(st step) gotest.Step {
	s := st.Step
	t := r.stepTimeout() + int(st.row.size>>20*20)
	if ms, ok := r.learned[st.Name]; ok {
		t = max(t, int(5*ms/1000))
	}
	if t > r.stepTimeout() {
		s.TimeoutSeconds = t
	}
	return s
}

// isolateTimeout bounds, in seconds, the load of a module booted alone
// because it was stuck in company.
const isolateTimeout = 180

// planTimeout is the longest any step of plan may take.
func planTimeout(plan *gotest.Plan) time.Duration {
	t := plan.StepTimeoutSeconds
	for _, s := range plan.Steps {
		t = max(t, s.TimeoutSeconds)
	}
	return time.Duration(t) * time.Second
}

// one boots every step in one guest (the scenario as it always ran).
func (r *runner) one(ctx context.Context, steps []step, deps map[string][]string) error {
	plan := &gotest.Plan{StepTimeoutSeconds: r.stepTimeout(), Modprobe: true}
	byName, index := map[string]step{}, map[string]int{}
	for i, s := range steps {
		plan.Steps = append(plan.Steps, r.stepFor(s))
		byName[s.Name], index[s.Name] = s, i
	}
	if err := writeModprobe(r.work, steps, byName, closureOf(deps, byName, index)); err != nil {
		return err
	}
	if r.o.Loop > 0 {
		plan.Loop = loopPlan(steps, deps, r.o.Loop, true)
	}
	boot, err := vm.RunPlan(ctx, r.B.k, r.src, r.work, plan, r.o.Progress, r.o.VM...)
	if err != nil {
		return err
	}
	rep := r.rep
	rep.Console = boot.Console
	s := &rep.Summary
	s.Accel, s.AccelNote, s.BootVerdict, s.BootDetail = string(boot.Accel), boot.AccelNote, string(boot.Verdict), boot.Detail
	s.BootSeconds, s.PrepareSeconds, s.CrashSite = report.Seconds(boot.Seconds), report.Seconds(boot.PrepareSeconds), boot.CrashSite
	s.CPUSeconds = report.Seconds(boot.CPUSeconds)
	if boot.Start != nil {
		s.Uname = boot.Start.Uname
	}
	if boot.End != nil {
		s.Taint = boot.End.Taint
	}
	s.BootPhases = boot.Phases()
	s.Splat = vm.Splat(boot.Console)
	s.KASAN = bootKASAN(boot)
	if r.o.QuietMismatch && s.AllowMismatch {
		s.MismatchLog = quietMismatch(boot)
	}
	s.ConsoleLog = filepath.Join(r.work, vm.ConsoleFile)
	rep.Rows = r.judgeBoot(steps, boot)
	if plan.Loop != nil {
		rep.Loop = judgeLoop(plan.Loop, steps, rep.Rows, boot, r.o.RequireKmemleak)
	} else if r.o.Loop > 0 {
		rep.Notes = append(rep.Notes, "no load/unload loop: no step loads with BTF on its own")
	}
	for _, row := range rep.Rows {
		s.count(row, r.o.Build)
	}
	s.addOverhead(boot)
	s.Boots = 1
	if boot.Verdict == vm.Clean && boot.End == nil {
		s.BootVerdict = "incomplete"
		s.BootDetail = "the guest powered off without finishing the plan (see the console)"
	}
	if !r.o.Keep {
		for _, big := range []string{gotest.ModDir, gotest.OutDir, vm.GuestTestFile, gotest.ModprobeFile} {
			os.RemoveAll(filepath.Join(r.work, big))
		}
	}
	return nil
}

// judgeBoot judges every step of a boot and checks the BTF each kept
// with cilium/ebpf.
func (r *runner) judgeBoot(steps []step, boot *vm.Boot) []Row {
	rows := make([]Row, len(boot.Outcomes))
	for i, oc := range boot.Outcomes {
		row := judge(steps[i].row, oc, boot, boot, r.B.vmlinux)
		if row.Kernel == KernelCrashed {
			row.CrashSite, row.btfCrash = boot.CrashSite, btfCrash(boot)
		}
		if row.served != nil {
			row.Cilium = ciliumCheck(row.served, r.cilium, cbtf.TypeID(r.B.vmlinux.NumIDs()))
			row.served = nil
		}
		rows[i] = row
	}
	// A kernel's own build that stayed loaded leaves the distilled one
	// "already loaded": its BTF is the own build's, not to be judged.
	stuckNative := map[string]bool{}
	for i, oc := range boot.Outcomes {
		if d := oc.Done; d != nil && rows[i].Role == RoleNative && d.UnloadErr != "" {
			stuckNative[rows[i].Module] = true
			rows[i].Note = "not unloaded: " + d.UnloadErr
		}
	}
	for i, oc := range boot.Outcomes {
		if d := oc.Done; d != nil && d.AlreadyLoaded && rows[i].Role != RoleNative && stuckNative[rows[i].Module] {
			rows[i].Kernel, rows[i].Agree, rows[i].Identical = KernelAlready, false, false
			rows[i].Verdict = "not judged: the kernel's own build of it, loaded before as a control, could not be unloaded"
			rows[i].Diff, rows[i].Note = "", ""
		}
	}
	return rows
}

// many runs the steps as a schedule of boots (boots.go).
func (r *runner) many(ctx context.Context, steps []step, deps map[string][]string) error {
	byName := map[string]step{}
	index := map[string]int{}
	var front, mods []string
	for i, s := range steps {
		byName[s.Name], index[s.Name] = s, i
		switch {
		case s.row.Role == RoleDep:
		case s.row.Role == RoleModule || s.row.Role == RoleNative:
			mods = append(mods, s.Name)
		default:
			front = append(front, s.Name) // case rows, test module, repro
		}
	}
	// Modules of one directory share dependencies: boot them together.
	path := func(n string) string { return r.B.paths[n] }
	sort.SliceStable(mods, func(i, j int) bool { return path(mods[i]) < path(mods[j]) })
	needs := dependsOn(deps)
	closure := closureOf(deps, byName, index)
	learned := loadCosts(r.o.Run, r.o.Arch)
	cost := func(n string) float64 { return learned.cost(n, byName[n].row.size) }
	parts := partition(mods, cost, r.o.Boots)
	parts[0] = append(slices.Clone(front), parts[0]...)
	var jobs []job
	for i, p := range parts {
		jobs = append(jobs, job{kind: batchJob, mods: p, why: fmt.Sprintf("batch %d of %d", i+1, len(parts))})
	}
	wanted := append(slices.Clone(front), mods...)
	extra := r.o.ExtraBoots
	sched := newScheduler(wanted, closure, needs, r.o.Parallel, extra, r.logf)
	sched.near = func(m string, cands []string) []string {
		var out []string
		for _, c := range cands {
			if p := path(c); p != "" && filepath.Dir(p) == filepath.Dir(path(m)) {
				out = append(out, c)
			}
		}
		return out
	}
	r.learned = learned
	sched.dir = func(m string) string { return filepath.Dir(path(m)) }
	sched.slow = func(m string, alone Row) bool {
		bound := max(r.stepTimeout(), r.stepFor(byName[m]).TimeoutSeconds)
		return alone.Millis >= int64(bound)*1000
	}

	if err := writeModprobe(r.work, steps, byName, closure); err != nil {
		return err
	}
	r.all = byName

	guest, err := vm.PrepareGuest(ctx, r.B.k, r.src, r.work, r.o.Progress)
	if err != nil {
		return err
	}
	defer guest.Close()
	r.rep.Summary.PrepareSeconds = report.Seconds(guest.Seconds)
	r.logf("scenario: %d modules in %d boots, %d at a time (at most %d more to isolate, bisect or retry)",
		len(wanted), len(jobs), max(r.o.Parallel, 1), extra)
	err = sched.run(ctx, jobs, func(ctx context.Context, id int, j job, names []string) (*booted, error) {
		return r.boot(ctx, guest, id, j, names, byName)
	})
	if err != nil {
		return err
	}
	rep := r.rep
	rep.Rows = sched.result()
	rep.Notes = sched.Notes
	if err := saveCosts(r.o.Run, r.o.Arch, rep.Rows); err != nil {
		r.logf("scenario: keeping the steps' costs: %v", err)
	}
	sort.Slice(rep.Boots, func(i, j int) bool { return rep.Boots[i].N < rep.Boots[j].N })
	s := &rep.Summary
	s.scheduled = true
	for _, row := range rep.Rows {
		s.count(row, r.o.Build)
	}
	s.Boots = len(rep.Boots)
	s.BootVerdict = string(vm.Clean)
	for _, b := range rep.Boots {
		s.BootSeconds += b.Seconds
		s.CPUSeconds += b.CPU
		s.BootPhases.ToTest += b.Phases.ToTest
		s.BootPhases.Setup += b.Phases.Setup
		s.BootPhases.Steps += b.Phases.Steps
		s.BootPhases.Shutdown += b.Phases.Shutdown
		s.BootPhases.Outside += b.Phases.Outside
		s.Accel, s.AccelNote = b.Accel, b.AccelNote
		s.guestSteps += b.steps
		s.guestLoadSeconds += b.loadSeconds
		s.guestStepSeconds += b.Phases.Steps
		if s.Uname == "" {
			s.Uname = b.Uname
		}
	}
	s.setOverhead()
	for _, row := range rep.Rows {
		if row.Kernel == KernelNotRun && !strings.HasPrefix(row.Note, "needs ") && !strings.HasPrefix(row.Note, "skipped") {
			s.BootVerdict = "incomplete"
			s.BootDetail = "modules not run: " + row.Module + " (" + row.Verdict + ")"
			break
		}
	}
	s.ConsoleLog = filepath.Join(r.work, "boot-*", vm.ConsoleFile)
	if !r.o.Keep {
		for _, big := range []string{gotest.ModDir, gotest.ModprobeFile} {
			os.RemoveAll(filepath.Join(r.work, big))
		}
	}
	return nil
}

// boot runs one boot of the schedule in a share of its own (the module
// files linked in from the run's), judges its rows and records it.
func (r *runner) boot(ctx context.Context, g *vm.Guest, id int, j job, names []string, byName map[string]step) (*booted, error) {
	share := filepath.Join(r.work, fmt.Sprintf("boot-%03d", id))
	if err := os.MkdirAll(filepath.Join(share, gotest.ModDir), 0o755); err != nil {
		return nil, err
	}
	// A boot of the schedule ends at a step whose init is still at work
	// past its bound once the BTF is read: the steps left boot again.
	plan := &gotest.Plan{StepTimeoutSeconds: r.stepTimeout(), Modprobe: true, StopAtSlowInit: true}
	steps := make([]step, len(names))
	for i, n := range names {
		st := byName[n]
		if j.kind == batchJob || j.kind == isolateJob || j.kind == apartJob {
			st.Dep = !slices.Contains(j.mods, n)
		}
		steps[i] = st
		ps := r.stepFor(st)
		if j.kind == isolateJob && n == j.mods[0] {
			// Alone, a slow load (tcrypt's self-tests under arm64 TCG) is
			// given the time to show it is slow, not stuck.
			ps.TimeoutSeconds = max(ps.TimeoutSeconds, isolateTimeout)
		}
		plan.Steps = append(plan.Steps, ps)
	}
	// Every module file, for modprobe, and its table.
	for _, st := range r.all {
		if err := linkOrCopy(filepath.Join(r.work, st.File), filepath.Join(share, st.File)); err != nil {
			return nil, err
		}
	}
	if err := linkOrCopy(filepath.Join(r.work, gotest.ModprobeFile), filepath.Join(share, gotest.ModprobeFile)); err != nil {
		return nil, err
	}
	r.logf("scenario: boot %d: %s: %d steps", id, describeJob(j), len(steps))
	// A guest whose results stop growing for longer than a step may take
	// (and the boot before its first record) is wedged.
	stall := planTimeout(plan) + 3*time.Minute
	// The boot's own bound only backs the stall watch up: a boot of
	// thousands of loads may take long and still progress.
	bound := 15*time.Minute + time.Duration(len(steps))*time.Second + planTimeout(plan)
	opts := append(slices.Clone(r.o.VM), vm.Stall(filepath.Join(share, gotest.ResultsFile), stall),
		vm.EndGrace(gotest.EndMark, 20*time.Second), vm.Timeout(bound))
	b, err := g.RunPlan(ctx, share, plan, prefixed{r.o.Progress, fmt.Sprintf("boot %d: ", id), &r.mu}, opts...)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("boot %d: %w", id, err)
	}
	rows := r.judgeBoot(steps, b)
	out := &booted{ID: id, Order: names, Rows: map[string]Row{}, Complete: b.Complete(), Verdict: string(b.Verdict), Detail: b.Detail}
	run := BootRun{N: id, Why: describeJob(j), Steps: len(steps), Verdict: string(b.Verdict), Detail: b.Detail,
		Seconds: report.Seconds(b.Seconds), CPU: report.Seconds(b.CPUSeconds), Phases: b.Phases(),
		Console: filepath.Join(share, vm.ConsoleFile), Accel: string(b.Accel), AccelNote: b.AccelNote}
	if b.Start != nil {
		run.Uname = b.Start.Uname
	}
	if b.Verdict == vm.Panic || b.Verdict == vm.Lockup {
		// A warning's pc on a clean boot is no crash site.
		run.CrashSite, run.Splat = b.CrashSite, vm.Splat(b.Console)
	}
	if k := bootKASAN(b); len(k) > 0 {
		run.KASAN = k
		r.mu.Lock()
		r.rep.Summary.KASAN = append(r.rep.Summary.KASAN, k...)
		r.mu.Unlock()
	}
	if !b.Complete() && b.Verdict == vm.Clean {
		run.Verdict = "incomplete"
	}
	for _, rec := range b.Records {
		if rec.Event == "modprobe" {
			m := rec.Module + " -> " + rec.Step
			if !rec.Loaded {
				m += " (" + rec.LoadErr + ")"
			}
			run.Modprobe = append(run.Modprobe, m)
		}
	}
	counts := map[string]int{}
	for i, row := range rows {
		out.Rows[names[i]] = row
		counts[string(row.Kernel)]++
		if row.Kernel == KernelHung || row.Kernel == KernelCrashed {
			run.Stuck = names[i]
		}
		if d := b.Outcomes[i].Done; d != nil {
			run.steps++
			run.loadSeconds += float64(d.LoadMicros) / 1e6
		}
	}
	r.mu.Lock()
	r.rep.Boots = append(r.rep.Boots, run)
	r.mu.Unlock()
	line := fmt.Sprintf("scenario: boot %d: %s in %.1f s (QEMU CPU %.1f s): %d with BTF, %d without, %d refused",
		id, run.Verdict, b.Seconds, b.CPUSeconds, counts[string(KernelBTF)], counts[string(KernelNoBTF)], counts[string(KernelRefused)])
	if n := counts[string(KernelNotRun)]; n > 0 {
		line += fmt.Sprintf(", %d not run", n)
	}
	if run.Stuck != "" {
		line += ", stuck in " + run.Stuck
	}
	r.logf("%s", line)
	if !r.o.Keep {
		for _, big := range []string{gotest.ModDir, gotest.OutDir} {
			os.RemoveAll(filepath.Join(share, big))
		}
	}
	return out, nil
}

// BootRun is one boot of a scheduled scenario.
type BootRun struct {
	N         int            `json:"boot"`
	Why       string         `json:"why"`
	Steps     int            `json:"steps"`
	Verdict   string         `json:"verdict"`
	Detail    string         `json:"detail,omitempty"`
	Seconds   report.Seconds `json:"seconds"`
	CPU       report.Seconds `json:"cpu_seconds"` // QEMU's CPU time
	Phases    vm.Phases      `json:"phases"`
	Stuck     string         `json:"stuck,omitempty"`
	CrashSite string         `json:"crash_site,omitempty"`
	Splat     []string       `json:"splat,omitempty"`
	Console   string         `json:"console_log"`
	Accel     string         `json:"accel"`
	AccelNote string         `json:"accel_note,omitempty"`
	Uname     string         `json:"uname,omitempty"`
	// KASAN are the boot's KASAN reports (their head lines).
	KASAN []string `json:"kasan,omitempty"`
	// Modprobe are the guest's request_module loads: "name -> module".
	Modprobe []string `json:"modprobe,omitempty"`

	steps       int     // finished steps
	loadSeconds float64 // their finit_module time
}

// closureOf returns the function that gives modules and everything they
// depend on, each after its dependencies (the prepared steps' order).
func closureOf(deps map[string][]string, byName map[string]step, index map[string]int) func([]string) []string {
	return func(want []string) []string {
		in := map[string]bool{}
		var add func(n string)
		add = func(n string) {
			if in[n] {
				return
			}
			in[n] = true
			for _, d := range deps[n] {
				add(d)
			}
		}
		for _, n := range want {
			add(n)
		}
		out := make([]string, 0, len(in))
		for n := range in {
			if _, ok := byName[n]; ok {
				out = append(out, n)
			}
		}
		sort.Slice(out, func(i, j int) bool { return index[out[i]] < index[out[j]] })
		return out
	}
}

// writeModprobe writes the table the guest's /sbin/modprobe loads from:
// what a module asks for at init comes from the same prepared files, each
// after its dependencies.
func writeModprobe(dir string, steps []step, byName map[string]step, closure func([]string) []string) error {
	table := gotest.ModprobeTable{}
	for _, st := range steps {
		if len(st.aliases) == 0 {
			continue
		}
		t := gotest.ModprobeTarget{Module: st.Name}
		for _, n := range closure([]string{st.Name}) {
			t.Files = append(t.Files, byName[n].File)
			t.Flags = append(t.Flags, byName[n].Flags)
		}
		for _, a := range st.aliases {
			table.Add(a, t)
		}
	}
	tj, err := json.Marshal(table)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, gotest.ModprobeFile), tj, 0o644)
}

// dependsOn returns whether m needs d at any depth.
func dependsOn(deps map[string][]string) func(m, d string) bool {
	memo := map[[2]string]bool{}
	var needs func(m, d string, seen map[string]bool) bool
	needs = func(m, d string, seen map[string]bool) bool {
		if v, ok := memo[[2]string{m, d}]; ok {
			return v
		}
		if seen[m] {
			return false
		}
		seen[m] = true
		v := false
		for _, x := range deps[m] {
			if x == d || needs(x, d, seen) {
				v = true
				break
			}
		}
		memo[[2]string{m, d}] = v
		return v
	}
	return func(m, d string) bool { return needs(m, d, map[string]bool{}) }
}

// linkOrCopy puts a module file into a boot's share: a hard link (the
// files are big and never change), a copy across file systems.
func linkOrCopy(from, to string) error {
	if err := os.Link(from, to); err == nil || errors.Is(err, os.ErrExist) {
		return nil
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// prefixed writes each line with a prefix, lines from boots running side
// by side kept whole.
type prefixed struct {
	w      io.Writer
	prefix string
	mu     *sync.Mutex
}

func (p prefixed) Write(b []byte) (int, error) {
	if p.w == nil {
		return len(b), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) > 0 {
			out.WriteString(p.prefix)
			out.Write(l)
		}
	}
	_, err := p.w.Write(out.Bytes())
	return len(b), err
}

// ciliumBase parses B's vmlinux BTF with cilium/ebpf, the base its module
// BTF is checked on.
func ciliumBase(B *kernelSide) (*cbtf.Spec, error) {
	raw, err := B.k.VmlinuxBTF()
	if err != nil {
		return nil, err
	}
	spec, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("cilium/ebpf: %s vmlinux BTF: %w", B.k, err)
	}
	return spec, nil
}

// ciliumCheck parses module BTF on the running kernel's vmlinux BTF with
// cilium/ebpf and inflates every module type (ids from first on): a
// semantic check independent of our codec. "ok" or the error.
func ciliumCheck(raw []byte, base *cbtf.Spec, first cbtf.TypeID) string {
	cs, err := cbtf.LoadSplitSpecFromReader(bytes.NewReader(raw), base)
	if err != nil {
		return "load: " + err.Error()
	}
	for id := first; ; id++ {
		_, err := cs.TypeByID(id)
		if errors.Is(err, cbtf.ErrNotFound) {
			return "ok"
		}
		if err != nil {
			return fmt.Sprintf("type %d: %v", id, err)
		}
	}
}

// btfCrash says whether a boot's oops is in BTF code (its crash site or a
// frame of its call trace names a btf function): a crash that is the
// module's BTF's doing, not its driver's.
func btfCrash(b *vm.Boot) bool {
	if strings.Contains(b.CrashSite, "btf") {
		return true
	}
	for _, l := range vm.Splat(b.Console) {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, "btf") {
			return true
		}
	}
	return false
}
