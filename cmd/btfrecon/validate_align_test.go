//go:build !lean

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBTFIDsPlacement: the two arm64 builds of our test module on 6.1
// (harness/kmod/testdata, made by a real kernel build): without the
// alignment fix its .BTF_ids lands at 0x73 and the destructor's type id
// is read 3 bytes low; with it, at 0x74.
func TestBTFIDsPlacement(t *testing.T) {
	td := func(n string) string { return filepath.Join("..", "..", "harness", "kmod", "testdata", n) }
	unaligned, aligned := td("btfrecon_test-6.1-arm64-unaligned.ko"), td("btfrecon_test-6.1-arm64-aligned.ko")
	for _, tc := range []struct {
		name string
		mods []string
		want []string // substrings of the note ("" for none)
	}{
		{"aligned", []string{aligned}, []string{"1 of 1 modules read their id lists through scaled loads, each on its boundary"}},
		{"unaligned", []string{aligned, unaligned}, []string{"2 of 2 modules", "1 loads are off their boundary",
			unaligned + ": .init.text+", "reads .BTF_ids at 0x83, 3 bytes past a 4-byte boundary"}},
		{"x86", []string{td("tiny-x86_64.ko")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			note, err := btfIDsPlacement(tc.mods)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) == 0 && note != "" {
				t.Fatalf("note %q, want none", note)
			}
			for _, w := range tc.want {
				if !strings.Contains(note, w) {
					t.Errorf("note %q does not say %q", note, w)
				}
			}
		})
	}
	if _, err := btfIDsPlacement([]string{td("nope.ko")}); err == nil || !strings.Contains(err.Error(), "nope.ko") {
		t.Errorf("a missing module: %v", err)
	}
}
