//go:build !vmguest

package gotest

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestCheckLoop(t *testing.T) {
	steps := []Step{{Name: "a", File: "mods/a.ko", Module: "a"}, {Name: "b", File: "mods/b.ko", Module: "b"}}
	tests := []struct {
		name string
		loop *Loop
		err  string
	}{
		{"none", nil, ""},
		{"ok", &Loop{Rounds: 10, Steps: []string{"b", "a"}, Kmemleak: true}, ""},
		{"unknown step", &Loop{Rounds: 1, Steps: []string{"c"}}, `step "c" is not a step`},
		{"negative rounds", &Loop{Rounds: -1}, "-1 rounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Plan{Steps: steps, Loop: tc.loop}).Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate: %v, want %q", err, tc.err)
			}
		})
	}
}

// TestParseKmemleak reads a report in 6.1's print_unreferenced format, the
// second entry cut short as a capped report is.
func TestParseKmemleak(t *testing.T) {
	raw, err := os.ReadFile("testdata/kmemleak-6.1.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		text  string
		leaks int
		first Leak
	}{
		{"report", string(raw), 2, Leak{Object: "0xffff888003a4e600", Size: 64, Comm: "gotest.test", Backtrace: []string{
			"kmalloc_trace+0x2e/0xb0", "btfrecon_leak_init+0x42/0x1000", "do_one_initcall+0x8d/0x2f0",
			"do_init_module+0x1c1/0x5d0", "__do_sys_finit_module+0x10b/0x1a0", "do_syscall_64+0x38/0x90",
			"entry_SYSCALL_64_after_hwframe+0x63/0xcd"}}},
		{"crlf and newer trace head", strings.ReplaceAll(strings.Replace(string(raw), "  backtrace:", "  backtrace (crc 5e3a1b2c):", 1), "\n", "\r\n"), 2,
			Leak{Object: "0xffff888003a4e600", Size: 64, Comm: "gotest.test"}},
		{"empty", "", 0, Leak{}},
		{"garbage", "no leak here\n  backtrace:\n    [<ffffffff812d3c1e>] x+0x1/0x2\n", 0, Leak{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseKmemleak(tc.text)
			if len(got) != tc.leaks {
				t.Fatalf("%d leaks, want %d: %+v", len(got), tc.leaks, got)
			}
			if tc.leaks == 0 {
				return
			}
			g := got[0]
			if g.Object != tc.first.Object || g.Size != tc.first.Size || g.Comm != tc.first.Comm {
				t.Errorf("first leak %+v, want %+v", g, tc.first)
			}
			if tc.first.Backtrace != nil && !slices.Equal(g.Backtrace, tc.first.Backtrace) {
				t.Errorf("backtrace %q, want %q", g.Backtrace, tc.first.Backtrace)
			}
			if len(g.Backtrace) != 7 {
				t.Errorf("backtrace of %d frames, want 7", len(g.Backtrace))
			}
			if last := got[len(got)-1]; len(last.Backtrace) != 2 || last.Backtrace[1] != "btf_relocate_id+0x52/0x90" {
				t.Errorf("torn last leak: %+v", last)
			}
		})
	}
}

// TestKmemleakOff: the lines mm/kmemleak.c prints when it stops (6.1).
func TestKmemleakOff(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"kmemleak: Kernel memory leak detector initialized (mem pool available: 15676)", "kmemleak: Automatic memory scanning thread started"}, ""},
		{[]string{"btfrecon_test: loaded", "kmemleak: Cannot allocate a kmemleak_object structure", "kmemleak: Kernel memory leak detector disabled"},
			"kmemleak: Cannot allocate a kmemleak_object structure"},
		{[]string{"[    3.1] kmemleak: Kernel memory leak detector disabled"}, "kmemleak: Kernel memory leak detector disabled"},
		{[]string{"kmemleak: Memory pool empty, consider increasing CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE"},
			"kmemleak: Memory pool empty, consider increasing CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE"},
		{[]string{"kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"}, ""},
	}
	for _, tc := range tests {
		if got := KmemleakOff(tc.lines); got != tc.want {
			t.Errorf("KmemleakOff(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}
