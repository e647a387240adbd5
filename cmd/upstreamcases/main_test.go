package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// realModule is the kfuncset test module as Debian 7.2.13's kbuild made
// it for an external build: harness/modbuild's testdata holds the module
// before distilling and the three sections the real build wrote.
func realModule(t *testing.T) (string, []byte) {
	t.Helper()
	dir := "../../harness/modbuild/testdata/7.2.13+deb14-amd64/kfuncset"
	m, err := kmod.Open(filepath.Join(dir, "pre.ko"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ids := read("BTF_ids")
	img, err := m.WithBTFSections(read("BTF"), read("BTF.base"), ids)
	if err != nil {
		t.Fatal(err)
	}
	ko := filepath.Join(t.TempDir(), "btfrecon_kfuncset.ko")
	if err := os.WriteFile(ko, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return ko, ids
}

func TestRows(t *testing.T) {
	ko, ids := realModule(t)
	out := t.TempDir()
	if err := run(ko, out, []string{"hostile:split-id-out-of-range", "hostile:btf-ids-out-of-range"}); err != nil {
		t.Fatal(err)
	}
	rows, err := os.ReadFile(filepath.Join(out, "rows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rows), "\n"); n != 3 || !strings.HasPrefix(string(rows), "good ") {
		t.Fatalf("rows.txt:\n%s", rows)
	}
	open := func(name string) *kmod.Module {
		m, err := kmod.Open(filepath.Join(out, name+".ko"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// split-id-out-of-range: the split no longer parses on its base, for a
	// type id out of range; .BTF_ids untouched.
	m := open("split-id-out-of-range")
	split, _ := m.BTF()
	base, _ := m.BTFBase()
	d, err := btf.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btf.ParseSplit(split, d); !errors.Is(err, btf.ErrTypeIDRange) {
		t.Fatalf("split-id-out-of-range: the split parses (%v)", err)
	}
	if got, _, _, _ := m.BTFIDs(); !bytes.Equal(got, ids) {
		t.Fatal("split-id-out-of-range: .BTF_ids changed")
	}
	// btf-ids-out-of-range: one word of .BTF_ids is 0x7fffffff, the rest
	// is the real build's.
	got, _, _, err := open("btf-ids-out-of-range").BTFIDs()
	if err != nil || len(got) != len(ids) {
		t.Fatalf("btf-ids-out-of-range: .BTF_ids %d bytes (%v), want %d", len(got), err, len(ids))
	}
	var diff []int
	for i := 0; i+4 <= len(ids); i += 4 {
		if !bytes.Equal(got[i:i+4], ids[i:i+4]) {
			diff = append(diff, i)
		}
	}
	if len(diff) != 1 || !bytes.Equal(got[diff[0]:diff[0]+4], []byte{0xff, 0xff, 0xff, 0x7f}) {
		t.Fatalf("btf-ids-out-of-range: words changed at %v, want one set to 0x7fffffff", diff)
	}
	if err := run(ko, out, []string{"hostile:no-such-case"}); err == nil {
		t.Fatal("an unknown label was accepted")
	}
}
