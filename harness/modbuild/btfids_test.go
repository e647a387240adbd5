package modbuild

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

func words(ws ...uint32) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// handIDs is a distilled base ([1] STRUCT task_struct, [2] INT int) and a
// split with two kfuncs whose id order is not their listing order, a name
// defined twice, and a STRUCT named like a base one.
func handIDs(t *testing.T, tagged bool) *btf.Spec {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Struct("task_struct", 0)
	b.Int("int", 4, btf.IntSigned)
	base, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	s := btf.NewBuilder(binary.LittleEndian, base)
	proto := s.FuncProto(2)      // [3]
	aa := s.Func("aa", proto, 1) // [4]
	s.Func("zz", proto, 1)       // [5]
	s.Func("aa", proto, 1)       // [6] a second aa: the first wins
	s.Struct("task_struct", 8)   // [7] the base's comes first
	s.Typedef("tt", 2)           // [8]
	if tagged {
		s.DeclTag("bpf_kfunc", aa, -1) // [9]
	}
	split, err := s.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return split
}

// The section as the compiler leaves it: a set8 of zz, aa (flags 0x11,
// 0x10022), a list (task_struct, missing, typedef tt), a set of zz, aa.
var (
	handSection = words(0, 1, 0, 0x11, 0, 0x10022, 0, 0, 0, 0, 0, 0)
	handSyms    = []kmod.BTFIDSym{
		{Name: "__BTF_ID__set8__kset", Off: 0, Size: 24},
		{Name: "__BTF_ID__func__zz__1", Off: 8, Size: 4},
		{Name: "__BTF_ID__func__aa__2", Off: 16, Size: 4},
		{Name: "__BTF_ID__struct__task_struct__3", Off: 24, Size: 4},
		{Name: "__BTF_ID__func__missing__4", Off: 28, Size: 4},
		{Name: "__BTF_ID__typedef__tt__5", Off: 32, Size: 4},
		{Name: "__BTF_ID__set__plain", Off: 36, Size: 12},
		{Name: "__BTF_ID__func__zz__6", Off: 40, Size: 4},
		{Name: "__BTF_ID__func__aa__7", Off: 44, Size: 4},
	}
)

// Expected bytes written out from resolve_btfids' rules (see btfids.go):
// ids by first kind+name match in id order; counts into the sets' first
// words; sets sorted by id, set8 flags moving with their ids; an unknown
// name left 0.
func TestResolveBTFIDsHand(t *testing.T) {
	sec := slices.Clone(handSection)
	got, unresolved, err := ResolveBTFIDs(sec, binary.LittleEndian, handSyms, handIDs(t, false))
	if err != nil {
		t.Fatal(err)
	}
	want := words(
		2, 1, // set8: cnt 2, flags kept
		4, 0x10022, // aa [4] sorted first, its flags with it
		5, 0x11, // zz [5]
		1,       // task_struct: the distilled base's [1]
		0,       // missing
		8,       // typedef tt
		2, 4, 5, // set: cnt 2, sorted
	)
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}
	if !slices.Equal(unresolved, []string{"missing"}) {
		t.Errorf("unresolved %v", unresolved)
	}
	if !bytes.Equal(sec, handSection) {
		t.Errorf("the input section was modified")
	}
}

func TestResolveBTFIDsRefusals(t *testing.T) {
	split := handIDs(t, false)
	for name, syms := range map[string][]kmod.BTFIDSym{
		"unknown prefix": {{Name: "__BTF_ID__enum__x__1", Off: 0, Size: 4}},
		"no counter":     {{Name: "__BTF_ID__func__x", Off: 0, Size: 4}},
		"past the end":   {{Name: "__BTF_ID__func__aa__1", Off: 44, Size: 4}},
		"set twice":      {{Name: "__BTF_ID__set__s", Off: 0, Size: 4}, {Name: "__BTF_ID__set__s", Off: 4, Size: 4}},
		"set too long":   {{Name: "__BTF_ID__set8__s", Off: 0, Size: 80}},
		"ragged set8":    {{Name: "__BTF_ID__set8__s", Off: 0, Size: 12}},
	} {
		if _, _, err := ResolveBTFIDs(make([]byte, 44), binary.LittleEndian, syms, split); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestImplicitArgs(t *testing.T) {
	for _, tc := range []struct {
		tagged bool
		flags  uint32 // aa's flags in the set8
		want   []string
	}{
		{true, 0x10022, []string{"aa"}},
		{true, 0x22, nil},
		{false, 0x10022, nil}, // no bpf_kfunc decl tag: resolve_btfids leaves it
	} {
		s := slices.Clone(handSection)
		binary.LittleEndian.PutUint32(s[20:], tc.flags)
		got, err := ImplicitArgs(s, binary.LittleEndian, handSyms, handIDs(t, tc.tagged))
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("tagged %v flags %#x: %v, %v; want %v", tc.tagged, tc.flags, got, err, tc.want)
		}
	}
}

// Real modules (make modbuild-testdata): the module as pahole got it
// (pre.ko: .BTF_ids unresolved, its __BTF_ID__ symbols) and the .BTF,
// .BTF.base and .BTF_ids the kernel's build wrote. Resolved against the
// build's own BTF, the model must fill .BTF_ids exactly as resolve_btfids
// did (6.12: in pahole's distilled numbering; 7.2: after the name sort).
func TestResolveBTFIDsReal(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	n := 0
	for _, dir := range dirs {
		want, err := os.ReadFile(filepath.Join(dir, "BTF_ids"))
		if os.IsNotExist(err) {
			continue
		}
		n++
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			pre, err := kmod.Parse(read("pre.ko"), "pre.ko")
			if err != nil {
				t.Fatal(err)
			}
			sec, syms, ok, err := pre.BTFIDs()
			if err != nil || !ok {
				t.Fatalf("pre.ko: %v, %v", ok, err)
			}
			if bytes.Equal(sec, want) {
				t.Fatal("the unresolved section already equals the resolved one")
			}
			base, err := btf.Parse(read("BTF.base"))
			if err != nil {
				t.Fatal(err)
			}
			split, err := btf.ParseSplit(read("BTF"), base)
			if err != nil {
				t.Fatal(err)
			}
			got, unresolved, err := ResolveBTFIDs(sec, pre.ByteOrder, syms, split)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("model % x\nbuild % x", got, want)
			}
			if len(unresolved) != 0 {
				t.Errorf("unresolved %v", unresolved)
			}
			if names, err := ImplicitArgs(sec, pre.ByteOrder, syms, split); err != nil || len(names) != 0 {
				t.Errorf("ImplicitArgs: %v, %v", names, err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no testdata/<kernel>-<arch>/<module>/BTF_ids")
	}
}

// The model's module is the build's with three sections replaced: on a real
// module (pre.ko, which has none of the BTF sections yet), .BTF and
// .BTF.base are added, .BTF_ids rewritten in place, and the symbols still
// point where they did.
func TestWithBTFSectionsReal(t *testing.T) {
	dir := filepath.Join("testdata", "7.2.13+deb14-amd64", "kfuncset")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pre, err := kmod.Parse(read("pre.ko"), "pre.ko")
	if err != nil {
		t.Fatal(err)
	}
	_, syms, _, err := pre.BTFIDs()
	if err != nil {
		t.Fatal(err)
	}
	img, err := pre.WithBTFSections(read("BTF"), read("BTF.base"), read("BTF_ids"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := kmod.Parse(img, "out.ko")
	if err != nil {
		t.Fatal(err)
	}
	gotS, _ := m.BTF()
	gotB, _ := m.BTFBase()
	gotI, syms2, ok, err := m.BTFIDs()
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !bytes.Equal(gotS, read("BTF")) || !bytes.Equal(gotB, read("BTF.base")) || !bytes.Equal(gotI, read("BTF_ids")) {
		t.Error("sections not as written")
	}
	if !slices.Equal(syms, syms2) {
		t.Errorf("symbols moved:\n%v\n%v", syms, syms2)
	}
	if _, err := pre.WithBTFSections(nil, nil, read("BTF_ids")[:60]); err == nil {
		t.Error("a shorter .BTF_ids was accepted")
	}
}
