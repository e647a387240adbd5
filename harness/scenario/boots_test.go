package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// world is a made-up kernel for the scheduler: which loads take a guest
// down, and how.
type world struct {
	deps       map[string][]string
	crashAlone map[string]bool   // the load crashes, whatever came before
	hangAlone  map[string]bool   // the load never returns
	crashAfter map[string]string // the load crashes when the other loaded earlier in the boot
	delayed    map[string]bool   // the guest dies after the load returns, before the next step
	slow       map[string]bool   // the load takes past its bound in company, and loads alone in 60 s
	busyAfter  map[string]string // the init is refused with EBUSY when the other loaded earlier in the boot
	atWork     map[string]bool   // the load is still at work at the guest's cap
	initSlow   map[string]bool   // the init is at work past its bound: BTF read, the guest stops the plan there
	hangSib    map[string]bool   // the load hangs when another of this set loaded earlier in the boot (speakup synths)
	failBoots  int               // the first boots die before their first step
	hostErrAt  int               // this boot fails on the host side

	boots [][]string // what each boot loaded, by boot id - 1
}

// boot plays one boot of the plan mods.
func (w *world) boot(_ context.Context, id int, j job, mods []string) (*booted, error) {
	w.boots = append(w.boots, mods)
	if id == w.hostErrAt {
		return nil, errors.New("disk full")
	}
	b := &booted{ID: id, Order: mods, Rows: map[string]Row{}, Complete: true, Verdict: "clean"}
	loaded := map[string]bool{}
	dead := id <= w.failBoots
	if dead {
		b.Complete, b.Verdict = false, "panic"
	}
	for _, m := range mods {
		row := Row{Module: m, Step: m, Role: RoleModule}
		switch {
		case dead:
			row.Kernel = KernelNotRun
		case w.crashAlone[m] || loaded[w.crashAfter[m]]:
			row.Kernel, dead, b.Complete, b.Verdict = KernelCrashed, true, false, "panic"
		case w.busyAfter[m] != "" && loaded[w.busyAfter[m]]:
			row.Kernel, row.Errno, row.LoadErr, row.Verdict = KernelRefused, 16, "device or resource busy", "refused"
		case w.atWork[m]:
			row.Kernel, row.AtWork, dead, b.Complete, b.Verdict = KernelHung, true, true, false, "hang"
		case w.initSlow[m]:
			// The guest ends its plan cleanly after this step: the rest
			// are not run, the boot is complete.
			row.Kernel, row.Agree, row.Identical, row.Verdict = KernelInitRunning, true, true, "identical (init still at work)"
			dead = true
		case w.hangSib[m] && slices.ContainsFunc(mods, func(o string) bool { return o != m && w.hangSib[o] && loaded[o] }):
			row.Kernel, dead, b.Complete, b.Verdict = KernelHung, true, false, "hang"
		case w.slow[m] && len(mods) > 1:
			row.Kernel, dead, b.Complete, b.Verdict = KernelHung, true, false, "hang"
		case w.slow[m]:
			row.Kernel, row.Agree, row.Identical, row.Verdict, row.Millis = KernelBTF, true, true, "identical", 60000
			loaded[m] = true
		case w.hangAlone[m]:
			row.Kernel, dead, b.Complete, b.Verdict = KernelHung, true, false, "hang"
		default:
			row.Kernel, row.Agree, row.Identical, row.Verdict = KernelBTF, true, true, "identical"
			loaded[m] = true
			if w.delayed[m] {
				dead, b.Complete, b.Verdict = true, false, "panic"
			}
		}
		b.Rows[m] = row
	}
	return b, nil
}

// closure and needs over w.deps, as runner.many builds them.
func (w *world) closure(order []string) func([]string) []string {
	return func(want []string) []string {
		in := map[string]bool{}
		var add func(string)
		add = func(n string) {
			if !in[n] {
				in[n] = true
				for _, d := range w.deps[n] {
					add(d)
				}
			}
		}
		for _, n := range want {
			add(n)
		}
		var out []string
		for _, n := range order {
			if in[n] {
				out = append(out, n)
			}
		}
		return out
	}
}

// TestSchedule drives the scheduler with made-up boots, one at a time (so
// the boot numbers are fixed); every expected boot and verdict below is
// worked out by hand from the rules in boots.go.
func TestSchedule(t *testing.T) {
	abcd, efgh := []string{"a", "b", "c", "d"}, []string{"e", "f", "g", "h"}
	all := append(slices.Clone(abcd), efgh...)
	tests := []struct {
		name  string
		w     world
		extra int
		// boots: each boot's plan, as "a b c"; kernel: the final outcome
		// of the modules that are not plain "btf"; note: a substring of
		// the module's note.
		boots  []string
		kernel map[string]KernelOutcome
		note   map[string]string
		notes  []string // substrings of the schedule's notes, in order
		// apart: every module is of its own directory (no suspect is
		// near another); otherwise all share one.
		apart bool
	}{
		{name: "clean", boots: []string{"a b c d", "e f g h"}},
		{
			// c crashes alone: boot 3 isolates it, boot 4 loads the rest of boot 1.
			name:   "crash alone",
			w:      world{crashAlone: map[string]bool{"c": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h", "c", "d"},
			kernel: map[string]KernelOutcome{"c": KernelCrashed},
			note:   map[string]string{"c": "crashes the guest alone too (boot 3; first stuck in boot 1)"},
		},
		{
			name:   "hang alone",
			w:      world{hangAlone: map[string]bool{"g": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h", "g", "h"},
			kernel: map[string]KernelOutcome{"g": KernelHung},
			note:   map[string]string{"g": "hangs the guest alone too (boot 3; first stuck in boot 2)"},
		},
		{
			// d needs c: it waits for c's isolation, then is not loaded.
			name:   "crash takes its dependants",
			w:      world{deps: map[string][]string{"d": {"c"}}, crashAlone: map[string]bool{"c": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h", "c"},
			kernel: map[string]KernelOutcome{"c": KernelCrashed, "d": KernelNotRun},
			note:   map[string]string{"d": "needs c, which crashes the guest (boot 3)"},
		},
		{
			// c crashes only after b: alone it loads (boot 3, its row);
			// the rest of boot 1 (boot 4); then boot 1's earlier loads
			// are bisected with c at the end: a+c is clean (boot 5), b+c
			// crashes (boot 6): b is the one.
			name:  "crash in company, bisected",
			w:     world{crashAfter: map[string]string{"c": "b"}},
			extra: 8,
			boots: []string{"a b c d", "e f g h", "c", "d", "a c", "b c"},
			note: map[string]string{"c": "b takes the guest down when c loads after it (boot 1, bisected in boot 6)",
				"b": "b takes the guest down when c loads after it"},
			notes: []string{"b takes the guest down when c loads after it (boot 1, bisected in boot 6)"},
		},
		{
			// The same, but b is of another directory than c: not a
			// suspect, nothing is bisected.
			name:  "crash in company, no suspect near",
			w:     world{crashAfter: map[string]string{"c": "b"}},
			extra: 8,
			apart: true,
			boots: []string{"a b c d", "e f g h", "c", "d"},
			note:  map[string]string{"c": "stuck in boot 1 after 2 other loads; loads alone (boot 3)"},
			notes: []string{"c, stuck in boot 1, loads alone; no module of its directory loaded before it there: not bisected"},
		},
		{
			// c only takes long (test_bpf's suite under TCG): past its
			// bound in boot 1, it loads alone in 60 s, longer than that
			// bound: slow, not stuck; nothing is bisected.
			name:  "slow in company, not bisected",
			w:     world{slow: map[string]bool{"c": true}},
			extra: 8,
			boots: []string{"a b c d", "e f g h", "c", "d"},
			note:  map[string]string{"c": "slow, not stuck: past its bound in boot 1, loads alone in 60.0 s (boot 3)"},
		},
		{
			// g is still at work at the guest's cap (tcrypt under arm64
			// TCG): not booted alone, where it would take as long; h,
			// which needs it, is not loaded; the rest of boot 2 is none.
			name:   "still at work at the cap",
			w:      world{deps: map[string][]string{"h": {"g"}}, atWork: map[string]bool{"g": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h"},
			kernel: map[string]KernelOutcome{"g": KernelHung, "h": KernelNotRun},
			note:   map[string]string{"g": "still at work after 10m0s in boot 2", "h": "needs g, still loading after 10m0s (boot 2)"},
		},
		{
			// c's init is still at work past its bound (tcrypt): the guest
			// read its BTF and ended the plan; d, which needs c, is not
			// loaded (it would load c again and end there again); the
			// rest of boot 1 is none, nothing is isolated or bisected.
			name:   "init still at work, a dependant",
			w:      world{deps: map[string][]string{"d": {"c"}}, initSlow: map[string]bool{"c": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h"},
			kernel: map[string]KernelOutcome{"c": KernelInitRunning, "d": KernelNotRun},
			note:   map[string]string{"d": "needs c, " + initRunningWhy + " (boot 1)"},
		},
		{
			// f's init is still at work: the rest of boot 2 (g h) boots
			// again, which costs no extra boot.
			name:   "init still at work, the rest boots again",
			w:      world{initSlow: map[string]bool{"f": true}},
			boots:  []string{"a b c d", "e f g h", "g h"},
			kernel: map[string]KernelOutcome{"f": KernelInitRunning},
		},
		{
			// c and d find what they register taken by b (a second
			// watchdog on minor 130): booted again apart, one of their
			// directory a boot, each loads.
			name:  "EBUSY after another, booted apart",
			w:     world{busyAfter: map[string]string{"c": "b", "d": "b"}},
			extra: 8,
			boots: []string{"a b c d", "e f g h", "c", "d"},
			note: map[string]string{"c": "refused in boot 1 (device or resource busy), what it registers taken by a module loaded before it; loads apart (boot 3)",
				"d": "loads apart (boot 4)"},
		},
		{
			// The same, c and d of two directories: one boot apart.
			name:  "EBUSY after another, two directories",
			w:     world{busyAfter: map[string]string{"c": "b", "d": "b"}},
			extra: 8,
			apart: true,
			boots: []string{"a b c d", "e f g h", "c d"},
			note:  map[string]string{"c": "loads apart (boot 3)", "d": "loads apart (boot 3)"},
		},
		{
			// No extra boot: the refusal stands, the schedule says so.
			name:   "EBUSY, no extra boots",
			w:      world{busyAfter: map[string]string{"c": "b"}},
			boots:  []string{"a b c d", "e f g h"},
			kernel: map[string]KernelOutcome{"c": KernelRefused},
			notes:  []string{"refused with EBUSY/EEXIST in boot 1, not booted apart (the extra boots are spent): c"},
		},
		{
			// The guest dies after b returns: no stuck step. Boot 1's
			// finished loads (a, b) are bisected: a alone is clean (boot
			// 3), the rest of boot 1 runs (boot 4), b alone dies (boot 5).
			name:  "delayed death, bisected",
			w:     world{delayed: map[string]bool{"b": true}},
			extra: 8,
			boots: []string{"a b c d", "e f g h", "a", "c d", "b"},
			note:  map[string]string{"b": "the guest dies after b loads (boot 1, bisected in boot 5)"},
			notes: []string{"the guest dies after b loads"},
		},
		{
			name:  "a boot dies before its first step: retried once",
			w:     world{failBoots: 1},
			extra: 2,
			boots: []string{"a b c d", "e f g h", "a b c d"},
		},
		{
			// With no extra boot c is not isolated: reported where it was
			// stuck, its dependant d not loaded; e..h and the rest go on.
			name:   "no extra boots",
			w:      world{deps: map[string][]string{"d": {"c"}}, crashAlone: map[string]bool{"c": true}},
			boots:  []string{"a b c d", "e f g h"},
			kernel: map[string]KernelOutcome{"c": KernelCrashed, "d": KernelNotRun},
			note:   map[string]string{"c": "not isolated (the extra boots are spent)", "d": "needs c"},
		},
		{
			// e is loaded first in boot 2 as f's dependency and is stuck:
			// isolated (boot 3), it crashes; f, waiting, is not loaded;
			// g and h, which do not need e, run (boot 4).
			name:   "stuck dependency",
			w:      world{deps: map[string][]string{"f": {"e"}}, crashAlone: map[string]bool{"e": true}},
			extra:  4,
			boots:  []string{"a b c d", "e f g h", "e", "g h"},
			kernel: map[string]KernelOutcome{"e": KernelCrashed, "f": KernelNotRun},
			note:   map[string]string{"f": "needs e, which crashes the guest (boot 3)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			s := newScheduler(all, w.closure(all), dependsOn(w.deps), 1, tc.extra, nil)
			if !tc.apart {
				s.near = func(_ string, cands []string) []string { return cands }
				s.dir = func(string) string { return "drivers/watchdog" }
			}
			s.slow = func(_ string, alone Row) bool { return alone.Millis >= 20000 }
			jobs := []job{{kind: batchJob, mods: abcd}, {kind: batchJob, mods: efgh}}
			if err := s.run(context.Background(), jobs, w.boot); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range w.boots {
				got = append(got, strings.Join(b, " "))
			}
			if !slices.Equal(got, tc.boots) {
				t.Errorf("boots\n got %q\nwant %q", got, tc.boots)
			}
			rows := s.result()
			if len(rows) != len(all) {
				t.Fatalf("%d rows, want one per module (%d)", len(rows), len(all))
			}
			for _, r := range rows {
				want := tc.kernel[r.Module]
				if want == "" {
					want = KernelBTF
				}
				if r.Kernel != want {
					t.Errorf("%s: kernel %s (%s), want %s", r.Module, r.Kernel, r.Note, want)
				}
				if n := tc.note[r.Module]; !strings.Contains(r.Note, n) {
					t.Errorf("%s: note %q, want it to hold %q", r.Module, r.Note, n)
				}
			}
			if len(s.Notes) != len(tc.notes) {
				t.Errorf("notes %q, want %d", s.Notes, len(tc.notes))
			}
			for i, n := range tc.notes {
				if i < len(s.Notes) && !strings.Contains(s.Notes[i], n) {
					t.Errorf("note %d: %q, want %q", i, s.Notes[i], n)
				}
			}
		})
	}
}

// TestScheduleSiblingsAlone: b, c, d and e are of one directory, and each
// hangs when another of them loaded before it (a second speakup synth
// waits for the first). Boot 1 is stuck in c after b: d and e, not run
// there, are held while c boots alone (boot 3); c loads alone, so d and e
// boot each alone (4, 5), where neither is stuck, instead of each being
// stuck after the other in the rest of boot 1; a and b, loaded before c
// in boot 1, are bisected with c at the end (6, 7): b is the one.
func TestScheduleSiblingsAlone(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	w := world{hangSib: map[string]bool{"b": true, "c": true, "d": true, "e": true}}
	s := newScheduler(all, w.closure(all), dependsOn(nil), 1, 8, nil)
	s.near = func(_ string, cands []string) []string { return cands }
	s.dir = func(m string) string {
		if w.hangSib[m] {
			return "drivers/accessibility/speakup"
		}
		return "fs/nls"
	}
	jobs := []job{{kind: batchJob, mods: all[:5]}, {kind: batchJob, mods: all[5:]}}
	if err := s.run(context.Background(), jobs, w.boot); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range w.boots {
		got = append(got, strings.Join(b, " "))
	}
	if want := []string{"a b c d e", "f g h", "c", "d", "e", "a c", "b c"}; !slices.Equal(got, want) {
		t.Errorf("boots\n got %q\nwant %q", got, want)
	}
	for _, r := range s.result() {
		if r.Kernel != KernelBTF {
			t.Errorf("%s: %s (%s)", r.Module, r.Kernel, r.Note)
		}
	}
	if want := "b makes c hang when it loads after it (boot 1, bisected in boot 7)"; len(s.Notes) != 1 || s.Notes[0] != want {
		t.Errorf("notes %q, want %q", s.Notes, want)
	}
}

// TestScheduleHostError: a host-side failure stops the schedule with its
// error (boots under way finish, nothing new starts).
func TestScheduleHostError(t *testing.T) {
	w := world{hostErrAt: 1}
	all := []string{"a", "b"}
	s := newScheduler(all, w.closure(all), dependsOn(nil), 2, 4, nil)
	err := s.run(context.Background(), []job{{kind: batchJob, mods: []string{"a"}}, {kind: batchJob, mods: []string{"b"}}}, w.boot)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("run: %v, want the host error", err)
	}
}

// TestScheduleParallel: with two slots every module still gets exactly
// its own row, whatever order the boots finish in.
func TestScheduleParallel(t *testing.T) {
	var all []string
	for i := range 40 {
		all = append(all, fmt.Sprintf("m%02d", i))
	}
	w := &world{crashAlone: map[string]bool{"m07": true, "m31": true}}
	var mu = make(chan struct{}, 1)
	boot := func(ctx context.Context, id int, j job, mods []string) (*booted, error) {
		mu <- struct{}{}
		defer func() { <-mu }()
		return w.boot(ctx, id, j, mods)
	}
	s := newScheduler(all, w.closure(all), dependsOn(nil), 2, 10, nil)
	var jobs []job
	for _, p := range splitN(all, 4) {
		jobs = append(jobs, job{kind: batchJob, mods: p})
	}
	if err := s.run(context.Background(), jobs, boot); err != nil {
		t.Fatal(err)
	}
	crashed := 0
	for _, r := range s.result() {
		switch r.Kernel {
		case KernelCrashed:
			crashed++
		case KernelBTF:
		default:
			t.Errorf("%s: %s", r.Module, r.Kernel)
		}
	}
	// 4 batches, 2 isolations, 2 rests (m08, m09 after m07; m32..m39 after
	// m31: too few to split over the two slots).
	if crashed != 2 || len(w.boots) != 8 {
		t.Errorf("%d crashed, %d boots; want 2 and 8", crashed, len(w.boots))
	}
}

func TestPartition(t *testing.T) {
	cost := map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 4}
	got := partition([]string{"a", "b", "c", "d", "e"}, func(m string) float64 { return cost[m] }, 2)
	// total 8, target 4 a part: a..d reach it, e (4) alone.
	if want := [][]string{{"a", "b", "c", "d"}, {"e"}}; !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("partition = %q, want %q", got, want)
	}
	cost = map[string]float64{"a": 3, "b": 1, "c": 1, "d": 3}
	got = partition([]string{"a", "b", "c", "d"}, func(m string) float64 { return cost[m] }, 2)
	if want := [][]string{{"a", "b"}, {"c", "d"}}; !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("partition = %q, want %q", got, want)
	}
	if got := partition([]string{"a"}, func(string) float64 { return 1 }, 3); len(got) != 1 {
		t.Errorf("one module in %d parts", len(got))
	}
	if got := splitN([]string{"a", "b", "c", "d", "e"}, 2); !slices.EqualFunc(got, [][]string{{"a", "b"}, {"c", "d", "e"}}, slices.Equal[[]string]) {
		t.Errorf("splitN = %q", got)
	}
}

// TestScheduleDepRows: a module loaded only as another's dependency gets
// a row too (after the wanted ones): a dependant's failure may be its.
func TestScheduleDepRows(t *testing.T) {
	w := world{deps: map[string][]string{"b": {"a"}}}
	order := []string{"a", "b"}
	s := newScheduler([]string{"b"}, w.closure(order), dependsOn(w.deps), 1, 0, nil)
	if err := s.run(context.Background(), []job{{kind: batchJob, mods: []string{"b"}}}, w.boot); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range s.result() {
		got = append(got, r.Module)
	}
	if !slices.Equal(got, []string{"b", "a"}) || len(w.boots) != 1 || strings.Join(w.boots[0], " ") != "a b" {
		t.Errorf("rows %q, boots %q", got, w.boots)
	}
}
