//go:build !lean

package main

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// moduleBTF is a vmlinux BTF whose struct module ends as the 6.1 series
// makes it: btf_base_data (a pointer) at 696, btf_base_data_size (an
// unsigned int behind a typedef) at 704, sizeof 768 (cacheline aligned).
func moduleBTF(t *testing.T, withTail bool) []byte {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	u := b.Int("unsigned int", 4, 0)
	u32 := b.Typedef("u32", u)
	ptr := b.Ptr(0)
	ms := []btf.Member{{Name: "state", Type: u, Offset: 0}}
	if withTail {
		ms = append(ms, btf.Member{Name: "btf_base_data", Type: ptr, Offset: 696 * 8}, btf.Member{Name: "btf_base_data_size", Type: u32, Offset: 704 * 8})
	}
	b.Struct("module", 768, ms...)
	return b.Bytes()
}

func TestMemberEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		raw    []byte
		member string
		want   uint64
		err    string
	}{
		{"tail", moduleBTF(t, true), structModuleTail, 708, ""},
		{"pointer", moduleBTF(t, true), "btf_base_data", 704, ""},
		{"unpatched", moduleBTF(t, false), structModuleTail, 0, "no member btf_base_data_size: is the series applied?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := btf.Parse(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := memberEnd(s, "module", tc.member)
			if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("memberEnd = %d, %v; want %d, %q", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestOldHeadersFit: a module whose .gnu.linkonce.this_module is as big as
// the unpatched struct module, against the patched kernel's layout.
func TestOldHeadersFit(t *testing.T) {
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("no objcopy")
	}
	dir := t.TempDir()
	vml := filepath.Join(dir, "vmlinux")
	if err := os.WriteFile(vml, moduleBTF(t, true), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int
		fits bool
	}{
		{"grew: refused", 704, false}, // sizeof 640 -> 704 on the minimal x86_64 config: no room
		{"in the padding", 768, true},
		{"just room", 708, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := filepath.Join(dir, "this_module")
			os.WriteFile(sec, make([]byte, tc.size), 0o644)
			ko := filepath.Join(dir, "m.ko")
			if out, err := exec.Command(objcopy, "--add-section", ".gnu.linkonce.this_module="+sec,
				"../../harness/kmod/testdata/tiny-x86_64.ko", ko).CombinedOutput(); err != nil {
				t.Fatalf("objcopy: %v: %s", err, out)
			}
			fits, have, end, err := oldHeadersFit(ko, vml)
			if err != nil || fits != tc.fits || have != uint64(tc.size) || end != 708 {
				t.Errorf("oldHeadersFit = %v %d %d %v, want %v %d 708", fits, have, end, err, tc.fits, tc.size)
			}
		})
	}
	if _, _, _, err := oldHeadersFit("../../harness/kmod/testdata/tiny-x86_64.ko", vml); !errors.Is(err, ErrOldHeaders) {
		t.Errorf("a module without .gnu.linkonce.this_module: %v", err)
	}
}
