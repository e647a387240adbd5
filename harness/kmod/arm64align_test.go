package kmod

import (
	"debug/elf"
	"testing"
)

// TestScaledLoadsBTFIDs: btfrecon_test.ko as 6.1.192's kbuild built it
// for arm64 (debug info stripped), without and with the series' patch 8.
// Without it .BTF_ids is byte aligned and lands at 0x73, after 0x13 bytes
// of __ksymtab_strings; the guest showed what that does: the destructor's
// type id 6 (.BTF_ids+0x10) was read as 0x06000000, the word 3 bytes
// below it. With it the section is 4-byte aligned, at 0x74.
func TestScaledLoadsBTFIDs(t *testing.T) {
	for _, tc := range []struct {
		file       string
		place      uint64
		misaligned int // loads reading .BTF_ids past a boundary
	}{
		{"btfrecon_test-6.1-arm64-unaligned.ko", 0x73, 1},
		{"btfrecon_test-6.1-arm64-aligned.ko", 0x74, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			loads, err := ScaledLoads(readTestdata(t, tc.file), ".BTF_ids")
			if err != nil {
				t.Fatal(err)
			}
			if len(loads) == 0 {
				t.Fatal("no scaled load of .BTF_ids")
			}
			bad := 0
			for _, l := range loads {
				if l.Addr-l.Addr%4 < tc.place-tc.place%4 {
					t.Errorf("%v: before the section", l)
				}
				if l.Misaligned() != 0 {
					bad++
					// The read of the destructor's type id, 3 bytes low.
					if l.Type != elf.R_AARCH64_LDST32_ABS_LO12_NC || l.Addr != 0x73+0x10 || l.Misaligned() != 3 || l.Section != ".init.text" {
						t.Errorf("unexpected misaligned load %v", l)
					}
				}
			}
			if bad != tc.misaligned {
				t.Errorf("%d misaligned loads, want %d: %v", bad, tc.misaligned, loads)
			}
		})
	}
}

func TestScaledLoadsOtherMachine(t *testing.T) {
	if loads, err := ScaledLoads(readTestdata(t, "tiny-x86_64.ko"), ".BTF_ids"); err != nil || loads != nil {
		t.Errorf("x86_64: %v, %v", loads, err)
	}
	if _, err := ScaledLoads([]byte("not elf"), ".BTF_ids"); err == nil {
		t.Error("not ELF: no error")
	}
}
