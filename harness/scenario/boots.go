package scenario

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/btfrecon/btfrecon/gotest"
)

// A scenario too big for one boot, or one whose modules may take the guest
// down, runs as a schedule of boots, each a fresh guest: the modules are
// partitioned into batches, each booted with the modules it depends on
// loaded first, a few boots at a time. A boot that ends early is read
// step by step:
//
//   - every step that finished is judged as it is;
//   - a step that started and never finished (the guest crashed or hung in
//     it) is booted again alone, with its dependencies: if it takes that
//     guest down too, it is reported as crashing (or hanging) the kernel,
//     isolated, and the modules that depend on it are reported as not
//     loaded for that reason; if it loads alone, that load is its row, and
//     the modules loaded before it in the first boot are bisected (halves
//     booted with it at the end) to find the one it crashes with;
//     the modules of its directory that had not run in the first boot
//     wait for that verdict, then boot each alone (a second speakup
//     synth waits for the first: in one boot each would be stuck after
//     the one before it);
//   - a boot that died between steps (a delayed effect: a timer, a
//     watchdog) is bisected over the steps that finished, to find the
//     module whose load makes a guest die without a step of its own;
//   - the steps that never ran are booted again, split over the free boot
//     slots; a boot that fails before its first step is retried once.
//
// Bisection and isolation boots are bounded (Options.ExtraBoots); a module
// whose isolation the bound stops is reported with the boot it was stuck
// in. The decisions live in (*scheduler).handle, a function of the boot's
// rows alone, so the table tests drive it with made-up boots.

// stepState is what a boot says of one step.
type stepState int

const (
	stepDone   stepState = iota // finished: loaded, refused, already there
	stepStuck                   // started, never finished
	stepNotRun                  // never started
)

func stateOf(r Row) stepState {
	switch r.Kernel {
	case KernelNotRun, kernelUnjudged:
		return stepNotRun
	case KernelHung, KernelCrashed:
		return stepStuck
	}
	return stepDone
}

type jobKind int

const (
	batchJob   jobKind = iota // a batch of modules (the partition, or the rest of a boot)
	isolateJob                // one module alone (with its dependencies)
	bisectJob                 // half of a set of suspects, with the module they crash (if any) at the end
	apartJob                  // modules whose init collided with a module loaded before them, each away from the others of its directory
)

// job is one boot to run: the wanted modules (their dependencies come
// with them), why, and for bisection the halves.
type job struct {
	kind jobKind
	mods []string
	why  string
	// isolateJob: mods[0] is the suspect; crashBoot the boot it was stuck in.
	// bisectJob: mods is the half booted, other the half still to try,
	// tail the module booted after the half (stuck in crashBoot), "" for
	// a boot that died between steps.
	other     []string
	tail      string
	crashBoot int
	retry     int
}

// booted is one boot as the scheduler reads it: the row of every planned
// step by module, in plan order, and whether the guest ran the whole plan
// and powered off.
type booted struct {
	ID       int
	Order    []string
	Rows     map[string]Row
	Complete bool
	// Verdict and Detail say how the boot ended, for rows and notes.
	Verdict, Detail string
}

// booter boots the plan of mods (in load order, dependencies included)
// as boot number id.
type booter func(ctx context.Context, id int, j job, mods []string) (*booted, error)

// scheduler runs jobs on a few boot slots and decides, boot by boot, what
// to boot next.
type scheduler struct {
	// closure returns mods and every module they depend on, each after
	// its dependencies; needs reports whether m depends on d (at any
	// depth).
	closure  func(mods []string) []string
	needs    func(m, d string) bool
	parallel int
	// extra bounds the isolation, bisection and retry boots.
	extra int
	logf  func(string, ...any)

	wanted   []string // every module the run is for, in order
	rows     map[string]Row
	final    map[string]bool
	isolated map[string]int      // module -> the boot that loaded it alone
	waiting  map[string][]string // suspect -> modules waiting for its isolation
	// held: suspect -> the modules of its directory that had not run in
	// the boot it was stuck in, until its isolation says whether it is
	// stuck only in company (releaseHeld).
	held map[string][]string
	// depRows are rows of dependencies loaded for another module that
	// disagree: kept, so that a disagreement is never lost to a merge.
	depRows  []Row
	extraRun int
	nextID   int
	// minSplit is the fewest modules a boot of the rest of another gets
	// when the rest is split over the slots.
	minSplit int
	// near returns the candidates of m's own subsystem (its package
	// directory), the suspects for a module that loads alone but was
	// stuck in company; lastSuspects is how many of the last loads before
	// a boot died between steps are bisected. Whole boots would cost a
	// boot of thousands of loads for each halving.
	near         func(m string, cands []string) []string
	lastSuspects int
	// slow says whether a module's load alone took as long as the bound
	// it had in company: then it was slow there, not stuck behind another
	// module, and nothing is bisected.
	slow func(m string, alone Row) bool
	// dir is a module's directory: modules refused because what they
	// register was taken by one loaded before (EBUSY, EEXIST: a second
	// watchdog on minor 130) boot again, none with another of its own.
	dir   func(m string) string
	apart map[string]bool // modules booted again so
	// Notes are what the schedule found that no single row says.
	Notes []string
}

func newScheduler(wanted []string, closure func([]string) []string, needs func(m, d string) bool, parallel, extra int, logf func(string, ...any)) *scheduler {
	if parallel < 1 {
		parallel = 1
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &scheduler{closure: closure, needs: needs, parallel: parallel, extra: extra, logf: logf,
		wanted: wanted, rows: map[string]Row{}, final: map[string]bool{}, isolated: map[string]int{},
		waiting: map[string][]string{}, held: map[string][]string{}, nextID: 1, minSplit: 64, lastSuspects: 64,
		near: func(string, []string) []string { return nil }, slow: func(string, Row) bool { return false },
		dir: func(m string) string { return m }, apart: map[string]bool{}}
}

// run boots jobs, and whatever their boots call for, parallel at a time.
// A host-side error stops the schedule (boots under way are cancelled).
func (s *scheduler) run(ctx context.Context, jobs []job, boot booter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		j   job
		b   *booted
		err error
	}
	done := make(chan result)
	queue := jobs
	running := 0
	var firstErr error
	var wg sync.WaitGroup
	for {
		if len(queue) == 0 && running == 0 && firstErr == nil {
			// Modules still held for an isolation that ended without a
			// verdict on company (it crashed alone, it was at work, a
			// dependency of it was stuck) go on as a batch.
			queue = s.releaseAllHeld()
		}
		for firstErr == nil && running < s.parallel && len(queue) > 0 {
			j := queue[0]
			queue = queue[1:]
			if j = s.pending(j); len(j.mods) == 0 {
				continue
			}
			id := s.nextID
			s.nextID++
			mods := s.closure(j.mods)
			running++
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := boot(ctx, id, j, mods)
				done <- result{j, b, err}
			}()
		}
		if running == 0 {
			if firstErr == nil && len(s.held) > 0 {
				continue // releaseAllHeld empties it
			}
			break
		}
		r := <-done
		running--
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
				cancel()
			}
			continue
		}
		if firstErr == nil {
			queue = append(queue, s.handle(r.j, r.b)...)
		}
	}
	wg.Wait()
	return firstErr
}

// pending drops from a batch the modules already final (a dependency that
// crashed took them out meanwhile).
func (s *scheduler) pending(j job) job {
	if j.kind != batchJob {
		return j
	}
	var keep []string
	for _, m := range j.mods {
		if !s.final[m] {
			keep = append(keep, m)
		}
	}
	j.mods = keep
	return j
}

// handle reads one boot and returns the boots it calls for.
func (s *scheduler) handle(j job, b *booted) []job {
	wanted := map[string]bool{}
	for _, m := range j.mods {
		wanted[m] = true
	}
	var stuck string
	var doneMods, notRun []string
	for _, m := range b.Order {
		row := b.Rows[m]
		row.Boot = b.ID
		switch stateOf(row) {
		case stepDone:
			doneMods = append(doneMods, m)
			s.keep(m, row, wanted[m] && j.kind != bisectJob)
		case stepStuck:
			stuck = m
			if !s.final[m] {
				s.rows[m] = row
			}
		case stepNotRun:
			if wanted[m] && j.kind == batchJob {
				notRun = append(notRun, m)
			}
		}
	}
	var next []job
	if j.kind == apartJob {
		s.readApart(j, b)
	}
	for _, m := range doneMods {
		// The boot ended at a module whose init was still at work: those
		// that need it would load it again and end there again.
		if r := b.Rows[m]; r.Kernel == KernelInitRunning {
			s.poison(m, fmt.Sprintf("needs %s, %s (boot %d)", m, initRunningWhy, b.ID))
		}
	}
	var collided []string
	if j.kind == batchJob {
		for _, m := range doneMods {
			if r := b.Rows[m]; wanted[m] && !s.apart[m] && collision(r) {
				collided = append(collided, m)
			}
		}
		next = append(next, s.bootApart(collided, b.ID)...)
	}
	switch {
	case j.kind == bisectJob:
		next = append(next, s.bisected(j, b, stuck)...)
	case stuck != "":
		next = append(next, s.stuckIn(j, b, stuck, doneMods)...)
	case !b.Complete && len(doneMods) == 0:
		if j.retry == 0 && s.spend() {
			j.retry++
			j.why = fmt.Sprintf("retry of boot %d (%s before its first step)", b.ID, b.Verdict)
			next = append(next, j)
		} else {
			for _, m := range j.mods {
				s.finalNotRun(m, fmt.Sprintf("boot %d ended before its first step (%s: %s)", b.ID, b.Verdict, b.Detail))
			}
		}
		notRun = nil
	case !b.Complete:
		// Died between steps: something loaded shortly before takes
		// guests down (a timer, a watchdog): the last loads are suspects.
		next = append(next, s.bisect(lastN(doneMods, s.lastSuspects), "", b.ID)...)
	}
	if j.kind == isolateJob && stuck == "" && len(j.mods) > 0 {
		if sus := j.mods[0]; stateOf(b.Rows[sus]) == stepDone {
			s.isolated[sus] = b.ID
			r := s.rows[sus]
			r.Note = fmt.Sprintf("stuck in boot %d after %d other loads; loads alone (boot %d)", j.crashBoot, len(j.other), b.ID)
			s.rows[sus] = r
			next = append(next, s.release(sus)...)
			next = append(next, s.releaseHeld(sus)...)
			// The module it is stuck behind is most likely one of its own
			// subsystem (a second speakup synth waits for the first).
			if s.slow(sus, b.Rows[sus]) {
				r.Note = fmt.Sprintf("slow, not stuck: past its bound in boot %d, loads alone in %.1f s (boot %d)",
					j.crashBoot, float64(b.Rows[sus].Millis)/1000, b.ID)
				s.rows[sus] = r
			} else if near := s.near(sus, j.other); len(near) > 0 {
				next = append(next, s.bisect(near, sus, j.crashBoot)...)
			} else if len(j.other) > 0 {
				s.Notes = append(s.Notes, fmt.Sprintf("%s, stuck in boot %d, loads alone; no module of its directory loaded before it there: not bisected", sus, j.crashBoot))
			}
		}
	}
	if stuck != "" {
		// Modules of this boot that need the stuck one wait for its verdict.
		var rest []string
		for _, m := range notRun {
			if s.needs(m, stuck) && !s.final[m] {
				s.waiting[stuck] = append(s.waiting[stuck], m)
			} else {
				rest = append(rest, m)
			}
		}
		notRun = rest
		if j.kind == batchJob && s.isolated[stuck] < 0 {
			notRun = s.hold(stuck, notRun)
		}
	}
	notRun = slices.DeleteFunc(notRun, func(m string) bool { return s.final[m] })
	if len(notRun) > 0 {
		// Split over the free slots only what is worth a boot's start-up.
		parts := min(s.parallel, max(1, len(notRun)/s.minSplit))
		for _, part := range splitN(notRun, parts) {
			next = append(next, job{kind: batchJob, mods: part, why: fmt.Sprintf("the rest of boot %d", b.ID)})
		}
	}
	return next
}

// initRunningWhy is how a module that needs one judged while its init was
// still at work is noted (causes.go groups by it).
const initRunningWhy = "whose init was still at work when its boot ended"

// collision says whether a module's init was refused because what it
// registers is taken (EBUSY, EEXIST from the init, not a module already
// loaded): by a module loaded before it in the same boot, most likely.
func collision(r Row) bool {
	return r.Kernel == KernelRefused && !r.BTFRefused && (r.Errno == int(unix.EBUSY) || r.Errno == int(unix.EEXIST))
}

// bootApart boots the modules that collided in boot id again, each boot
// holding at most one of each directory (a second watchdog driver finds
// minor 130 free only without the first).
func (s *scheduler) bootApart(mods []string, id int) []job {
	var boots [][]string
	count := map[string]int{}
	for _, m := range mods {
		s.apart[m] = true
		d := s.dir(m)
		k := count[d]
		count[d]++
		if k == len(boots) {
			boots = append(boots, nil)
		}
		boots[k] = append(boots[k], m)
	}
	var next []job
	for i, p := range boots {
		if !s.spend() {
			var left []string
			for _, p := range boots[i:] {
				left = append(left, p...)
			}
			s.Notes = append(s.Notes, fmt.Sprintf("refused with EBUSY/EEXIST in boot %d, not booted apart (the extra boots are spent): %s",
				id, strings.Join(left, " ")))
			break
		}
		next = append(next, job{kind: apartJob, mods: p, crashBoot: id,
			why: fmt.Sprintf("%d refused with EBUSY/EEXIST in boot %d, apart", len(p), id)})
	}
	return next
}

// readApart takes a boot-apart row as the module's own: loaded, or refused
// again away from the modules it collided with.
func (s *scheduler) readApart(j job, b *booted) {
	first := map[string]Row{}
	for _, m := range j.mods {
		first[m] = s.rows[m]
	}
	for _, m := range j.mods {
		row, ok := b.Rows[m]
		if !ok || stateOf(row) != stepDone {
			continue
		}
		row.Boot = b.ID
		was := first[m]
		if row.Kernel.loaded() {
			row.Note = fmt.Sprintf("refused in boot %d (%s), what it registers taken by a module loaded before it; loads apart (boot %d)",
				j.crashBoot, was.LoadErr, b.ID)
		} else {
			row.Note = fmt.Sprintf("refused in boot %d and again apart (boot %d)", j.crashBoot, b.ID)
		}
		s.rows[m], s.final[m] = row, true
	}
}

// keep records a finished step's row: as the module's own (final) when the
// module was booted for itself, else as a stand-in until it is.
func (s *scheduler) keep(m string, row Row, own bool) {
	if s.final[m] {
		if row.Role == RoleDep && !row.Agree && row.Kernel != KernelRefused {
			s.depRows = append(s.depRows, row)
		}
		return
	}
	if own {
		s.rows[m], s.final[m] = row, true
		return
	}
	if _, ok := s.rows[m]; !ok {
		s.rows[m] = row
	}
}

// stuckIn handles a step that started and never finished.
func (s *scheduler) stuckIn(j job, b *booted, stuck string, doneMods []string) []job {
	row := b.Rows[stuck]
	row.Boot = b.ID
	what := "crashes"
	if row.Kernel == KernelHung {
		what = "hangs"
	}
	switch {
	case row.kase != nil:
		// A catalog case row: its crash is the case's outcome.
		s.rows[stuck], s.final[stuck] = row, true
		return nil
	case row.AtWork:
		// Still at work at the guest's cap: alone it would only take as
		// long again.
		row.Note = fmt.Sprintf("still at work after %v in boot %d (its kernel log or modprobe loads growing): slow, not stuck; not booted alone", gotest.BusyCap, b.ID)
		s.rows[stuck], s.final[stuck] = row, true
		s.poison(stuck, fmt.Sprintf("needs %s, still loading after %v (boot %d)", stuck, gotest.BusyCap, b.ID))
		return nil
	case j.kind == isolateJob && stuck == j.mods[0]:
		row.Note = fmt.Sprintf("%s the guest alone too (boot %d; first stuck in boot %d)", what, b.ID, j.crashBoot)
		s.rows[stuck], s.final[stuck] = row, true
		s.logf("scenario: boot %d: %s %s the guest alone: isolated", b.ID, stuck, what)
		s.poison(stuck, fmt.Sprintf("needs %s, which %s the guest (boot %d)", stuck, what, b.ID))
		return nil
	case s.isolated[stuck] < 0:
		// Being isolated already (stuck in another boot too): its
		// dependants here wait with the others.
		return nil
	case s.isolated[stuck] > 0 || s.final[stuck]:
		// It loaded alone before: it takes the guest down only in company.
		row.Note = fmt.Sprintf("%s the guest in boot %d after %d other loads; loads alone (boot %d)", what, b.ID, len(doneMods), s.isolated[stuck])
		if !s.final[stuck] {
			s.rows[stuck], s.final[stuck] = row, true
		}
		s.poison(stuck, fmt.Sprintf("needs %s, which %s the guest in company (boot %d)", stuck, what, b.ID))
		return nil
	case !s.spend():
		row.Note = fmt.Sprintf("%s the guest in boot %d; not isolated (the extra boots are spent)", what, b.ID)
		s.rows[stuck], s.final[stuck] = row, true
		s.poison(stuck, fmt.Sprintf("needs %s, which %s the guest (boot %d)", stuck, what, b.ID))
		return nil
	}
	s.isolated[stuck] = -1 // under way
	if j.kind == isolateJob {
		// A dependency of the suspect is stuck: the suspect waits for it.
		s.waiting[stuck] = append(s.waiting[stuck], j.mods[0])
		s.waiting[stuck] = append(s.waiting[stuck], s.waiting[j.mods[0]]...)
		delete(s.waiting, j.mods[0])
	}
	s.logf("scenario: boot %d: stuck in %s (%s): booting it alone", b.ID, stuck, row.Kernel)
	return []job{{kind: isolateJob, mods: []string{stuck}, crashBoot: b.ID, other: doneMods,
		why: fmt.Sprintf("%s alone (stuck in boot %d)", stuck, b.ID)}}
}

// hold takes out of rest, the steps a boot stuck in stuck never ran, the
// modules of stuck's directory until stuck's isolation: a module stuck
// in company is most often waiting for one of its own subsystem loaded
// before it (a second speakup synth for the first), and in the rest of
// the boot each would be stuck after the one before it, each costing a
// bound, an isolation and a bisection.
func (s *scheduler) hold(stuck string, rest []string) []string {
	d := s.dir(stuck)
	keep := rest[:0:0]
	for _, m := range rest {
		if s.dir(m) == d && !s.final[m] {
			s.held[stuck] = append(s.held[stuck], m)
		} else {
			keep = append(keep, m)
		}
	}
	return keep
}

// releaseHeld boots the modules held for sus, which loads alone (stuck
// only in company), each alone, at most a third of the extra boots for
// them; the others in one boot.
func (s *scheduler) releaseHeld(sus string) []job {
	ms := slices.DeleteFunc(s.held[sus], func(m string) bool { return s.final[m] })
	delete(s.held, sus)
	var next []job
	for len(ms) > 0 && len(next) < max(1, s.extra/3) && s.spend() {
		next = append(next, job{kind: batchJob, mods: ms[:1],
			why: fmt.Sprintf("%s alone: of the directory of %s, stuck only in company", ms[0], sus)})
		ms = ms[1:]
	}
	if len(ms) > 0 {
		next = append(next, job{kind: batchJob, mods: ms, why: fmt.Sprintf("the modules of %s's directory held for its isolation", sus)})
	}
	return next
}

// releaseAllHeld boots every module still held, a boot for each suspect's.
func (s *scheduler) releaseAllHeld() []job {
	var sus []string
	for k := range s.held {
		sus = append(sus, k)
	}
	slices.Sort(sus)
	var next []job
	for _, k := range sus {
		if ms := slices.DeleteFunc(s.held[k], func(m string) bool { return s.final[m] }); len(ms) > 0 {
			next = append(next, job{kind: batchJob, mods: ms, why: fmt.Sprintf("the modules of %s's directory held for its isolation", k)})
		}
		delete(s.held, k)
	}
	return next
}

// release lets the modules that waited for sus go on, once sus loaded
// alone.
func (s *scheduler) release(sus string) []job {
	var next []job
	if ws := s.waiting[sus]; len(ws) > 0 {
		delete(s.waiting, sus)
		next = append(next, job{kind: batchJob, mods: ws, why: fmt.Sprintf("the modules that need %s, once it loaded alone", sus)})
	}
	return next
}

// bisect boots the first half of suspects (with tail after it), keeping
// the other half for when the first does not reproduce the crash.
func (s *scheduler) bisect(suspects []string, tail string, crashBoot int) []job {
	if len(suspects) == 0 {
		return nil
	}
	if !s.spend() {
		s.Notes = append(s.Notes, fmt.Sprintf("boot %d ended early; not bisected (the extra boots are spent)", crashBoot))
		return nil
	}
	a, b := suspects[:(len(suspects)+1)/2], suspects[(len(suspects)+1)/2:]
	return []job{{kind: bisectJob, mods: withTail(a, tail), other: b, tail: tail, crashBoot: crashBoot,
		why: fmt.Sprintf("bisecting boot %d: %d of %d suspects", crashBoot, len(a), len(suspects))}}
}

func withTail(mods []string, tail string) []string {
	out := slices.Clone(mods)
	if tail != "" && !slices.Contains(out, tail) {
		out = append(out, tail)
	}
	return out
}

// bisected reads a bisection boot.
func (s *scheduler) bisected(j job, b *booted, stuck string) []job {
	half := slices.DeleteFunc(slices.Clone(j.mods), func(m string) bool { return m == j.tail })
	reproduced := !b.Complete || stuck != ""
	if stuck != "" && stuck != j.tail && !s.final[stuck] && s.isolated[stuck] == 0 {
		// A module of the half is stuck itself: isolate it as any other.
		return s.stuckIn(job{kind: batchJob}, b, stuck, nil)
	}
	switch {
	case reproduced && len(half) == 1:
		culprit := half[0]
		note := fmt.Sprintf("the guest dies after %s loads (boot %d, bisected in boot %d)", culprit, j.crashBoot, b.ID)
		if j.tail != "" {
			what := "takes the guest down when %s loads after it"
			if stuck == j.tail && b.Rows[stuck].Kernel == KernelHung {
				what = "makes %s hang when it loads after it"
			}
			note = fmt.Sprintf("%s "+what+" (boot %d, bisected in boot %d)", culprit, j.tail, j.crashBoot, b.ID)
		}
		s.Notes = append(s.Notes, note)
		if r, ok := s.rows[culprit]; ok {
			r.Note = note
			s.rows[culprit] = r
		}
		if r, ok := s.rows[j.tail]; ok && j.tail != "" {
			r.Note = note
			s.rows[j.tail] = r
		}
		s.logf("scenario: %s", note)
		return nil
	case reproduced:
		return s.bisect(half, j.tail, j.crashBoot)
	case len(j.other) > 0:
		if !s.spend() {
			s.Notes = append(s.Notes, fmt.Sprintf("boot %d ended early; bisection stopped (the extra boots are spent)", j.crashBoot))
			return nil
		}
		return []job{{kind: bisectJob, mods: withTail(j.other, j.tail), tail: j.tail, crashBoot: j.crashBoot,
			why: fmt.Sprintf("bisecting boot %d: the other %d suspects", j.crashBoot, len(j.other))}}
	}
	s.Notes = append(s.Notes, fmt.Sprintf("boot %d's end (%s) is not reproduced by any half of its loads alone", j.crashBoot, b.Verdict))
	return nil
}

// spend takes one extra boot from the budget.
func (s *scheduler) spend() bool {
	if s.extraRun >= s.extra {
		return false
	}
	s.extraRun++
	return true
}

// poison makes every module that needs m final: not loaded, for why.
func (s *scheduler) poison(m, why string) {
	for _, w := range s.wanted {
		if w != m && !s.final[w] && s.needs(w, m) {
			s.finalNotRun(w, why)
		}
	}
	delete(s.waiting, m)
}

func (s *scheduler) finalNotRun(m, why string) {
	row := s.rows[m]
	row.Module, row.Kernel = m, KernelNotRun
	if row.Role == "" {
		row.Role = RoleModule
	}
	row.Verdict, row.Note, row.Agree = "not loaded: "+why, why, false
	s.rows[m], s.final[m] = row, true
}

// result is the rows of the run: one per wanted module in order, one per
// other module loaded as a dependency (sorted), then the dependency rows
// that disagree where the module had a row of its own.
func (s *scheduler) result() []Row {
	var out []Row
	seen := map[string]bool{}
	for _, m := range s.wanted {
		r, ok := s.rows[m]
		if !ok {
			r = Row{Module: m, Role: RoleModule, Kernel: KernelNotRun, Verdict: "not run"}
		}
		out = append(out, r)
		seen[m] = true
	}
	var deps []string
	for m := range s.rows {
		if !seen[m] {
			deps = append(deps, m)
		}
	}
	slices.Sort(deps)
	for _, m := range deps {
		out = append(out, s.rows[m])
	}
	return append(out, s.depRows...)
}

// lastN is the last n of mods.
func lastN(mods []string, n int) []string {
	return mods[max(0, len(mods)-n):]
}

// splitN cuts mods into at most n runs of about equal length, in order.
func splitN(mods []string, n int) [][]string {
	if n < 1 {
		n = 1
	}
	n = min(n, len(mods))
	var out [][]string
	for i := range n {
		lo, hi := i*len(mods)/n, (i+1)*len(mods)/n
		if hi > lo {
			out = append(out, mods[lo:hi])
		}
	}
	return out
}

// partition cuts mods (in order) into runs whose costs add up to about
// total/parts each, so that parts boots take about as long.
func partition(mods []string, cost func(string) float64, parts int) [][]string {
	if parts <= 1 || len(mods) <= 1 {
		return [][]string{mods}
	}
	total := 0.0
	for _, m := range mods {
		total += cost(m)
	}
	var out [][]string
	var cur []string
	acc, target := 0.0, total/float64(parts)
	for _, m := range mods {
		c := cost(m)
		if len(cur) > 0 && len(out) < parts-1 && acc+c/2 > target*float64(len(out)+1) {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, m)
		acc += c
	}
	return append(out, cur)
}

// describeJob is a boot's reason in a progress line.
func describeJob(j job) string {
	if j.why != "" {
		return j.why
	}
	return strings.Join(j.mods, ",")
}
