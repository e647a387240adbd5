package load_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// remapFixture is an in-tree module's BTF and .BTF_ids, laid out by hand.
//
// build (vmlinux): [1] int, [2] struct nf_conn (8), [3] struct other (4),
// [4] typedef myint -> int. split: [5] struct nf_conn___init {ct nf_conn;
// m myint}, [6] FUNC_PROTO int(void), [7] FUNC kf_b, [8] FUNC kf_a.
//
// Distilled (recon.Distill, contract step 3): D holds the used base types
// a distilled base keeps, in base id order: [1] int, [2] nf_conn; the new
// split holds the split's own types first, [3] nf_conn___init, [4] the
// proto, [5] kf_b, [6] kf_a, then the used base types D does not keep:
// [7] typedef myint.
//
// .BTF_ids as resolve_btfids left it for the in-tree build (ids in build
// numbering, sets sorted by those ids):
//
//	 0  __BTF_ID__struct__nf_conn__1          2
//	 4  __BTF_ID__struct__nf_conn___init__2   5
//	 8  __BTF_ID__struct__other__3            3
//	12  __BTF_ID__set__tset (12 bytes)        count 2
//	16  __BTF_ID__typedef__myint__4           4   (sorted: 4, 5)
//	20  __BTF_ID__struct__nf_conn___init__5   5
//	24  __BTF_ID__set8__kset (24 bytes)       count 2, flags 1 (KFUNCS)
//	32  __BTF_ID__func__kf_a__6               7, 0x20 (kf_b's id and flags:
//	40  __BTF_ID__func__kf_b__7               8, 0x10  sorted by id)
func remapFixture(t *testing.T) (sec []byte, syms []load.IDSym, build, split, d, s2 *btf.Spec) {
	t.Helper()
	le := binary.LittleEndian
	bb := btf.NewBuilder(le, nil)
	bb.Int("int", 4, btf.IntSigned)
	bb.Struct("nf_conn", 8)
	bb.Struct("other", 4)
	bb.Typedef("myint", 1)
	build, err := bb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(le, build)
	sb.Struct("nf_conn___init", 12, btf.Member{Name: "ct", Type: 2}, btf.Member{Name: "m", Type: 4, Offset: 64})
	proto := sb.FuncProto(1)
	sb.Func("kf_b", proto, 1)
	sb.Func("kf_a", proto, 1)
	if split, err = sb.Spec(); err != nil {
		t.Fatal(err)
	}
	if d, s2, err = recon.Distill(build, split); err != nil {
		t.Fatal(err)
	}
	words := []uint32{2, 5, 3, 2, 4, 5, 2, 1, 7, 0x20, 8, 0x10}
	for _, w := range words {
		sec = le.AppendUint32(sec, w)
	}
	syms = []load.IDSym{
		{"__BTF_ID__struct__nf_conn__1", 0, 4},
		{"__BTF_ID__struct__nf_conn___init__2", 4, 4},
		{"__BTF_ID__struct__other__3", 8, 4},
		{"__BTF_ID__set__tset", 12, 12},
		{"__BTF_ID__typedef__myint__4", 16, 4},
		{"__BTF_ID__struct__nf_conn___init__5", 20, 4},
		{"__BTF_ID__set8__kset", 24, 24},
		{"__BTF_ID__func__kf_a__6", 32, 4},
		{"__BTF_ID__func__kf_b__7", 40, 4},
	}
	return sec, syms, build, split, d, s2
}

func words(b []byte) []uint32 {
	var out []uint32
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, binary.LittleEndian.Uint32(b[i:]))
	}
	return out
}

func TestRemapBTFIDs(t *testing.T) {
	sec, syms, build, split, d, s2 := remapFixture(t)
	out, done, unresolved, err := load.RemapBTFIDs(sec, binary.LittleEndian, syms, build, split, d, s2)
	if err != nil {
		t.Fatal(err)
	}
	// nf_conn stays [2] (D's nf_conn); nf_conn___init [5] -> [3]; other is
	// not in the distilled numbering -> 0; the set: myint [4] -> [7] (the
	// new split's copy), nf_conn___init -> [3], sorted: 3, 7; the kfunc
	// set: kf_b 7 -> 5, kf_a 8 -> 6, already in order, flags with them.
	want := []uint32{2, 3, 0, 2, 3, 7, 2, 1, 5, 0x20, 6, 0x10}
	if got := words(out); !slices.Equal(got, want) {
		t.Errorf("remapped words\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(unresolved, []string{"STRUCT 'other'"}) {
		t.Errorf("unresolved = %q", unresolved)
	}
	if len(done) != 7 {
		t.Errorf("%d slots remapped, want 7 (every non-zero slot): %+v", len(done), done)
	}
	if !slices.Equal(words(sec), []uint32{2, 5, 3, 2, 4, 5, 2, 1, 7, 0x20, 8, 0x10}) {
		t.Error("the input section was modified")
	}
	kf, err := load.Kfuncs(out, binary.LittleEndian, syms)
	if err != nil {
		t.Fatal(err)
	}
	if wantK := []load.Kfunc{{"kset", 5, 0x20}, {"kset", 6, 0x10}}; !slices.Equal(kf, wantK) {
		t.Errorf("Kfuncs = %+v, want %+v", kf, wantK)
	}
}

func TestRemapBTFIDsRefuses(t *testing.T) {
	sec, syms, build, split, d, s2 := remapFixture(t)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		edit func(sec []byte, syms []load.IDSym) ([]byte, []load.IDSym)
	}{
		{"set count not its size", func(sec []byte, syms []load.IDSym) ([]byte, []load.IDSym) {
			le.PutUint32(sec[12:], 3)
			return sec, syms
		}},
		{"struct slot holding a typedef", func(sec []byte, syms []load.IDSym) ([]byte, []load.IDSym) {
			le.PutUint32(sec[0:], 4)
			return sec, syms
		}},
		{"slot past the section", func(sec []byte, syms []load.IDSym) ([]byte, []load.IDSym) {
			return sec, append(syms, load.IDSym{Name: "__BTF_ID__func__x__9", Off: 46, Size: 4})
		}},
		{"split id past the split", func(sec []byte, syms []load.IDSym) ([]byte, []load.IDSym) {
			le.PutUint32(sec[4:], 9)
			return sec, syms
		}},
	} {
		s, y := tc.edit(slices.Clone(sec), slices.Clone(syms))
		if _, _, _, err := load.RemapBTFIDs(s, le, y, build, split, d, s2); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestRelocateID: btf_relocate_id through the model's id map, and an id
// past the map refused where the kernel would read beyond it.
func TestRelocateID(t *testing.T) {
	p := load.Prediction{IDMap: []btf.TypeID{0, 70, 71, 90001}}
	if got, err := p.RelocateID(3); err != nil || got != 90001 {
		t.Errorf("RelocateID(3) = %d, %v", got, err)
	}
	if _, err := p.RelocateID(4); !errors.Is(err, btf.ErrTypeIDRange) {
		t.Errorf("RelocateID(4): %v, want a range error", err)
	}
	if got, _ := (load.Prediction{}).RelocateID(42); got != 42 {
		t.Errorf("without .BTF.base the id stays: %d", got)
	}
}

// TestKfuncsOn: btfrecon_test's .BTF_ids as 6.1.192's kbuild and
// resolve_btfids wrote it (a set8 without BTF_SET8_KFUNCS, which 6.8
// added, then a BTF_ID_LIST of two): a kfunc set on 6.1, none on 6.12.
func TestKfuncsOn(t *testing.T) {
	sec, _ := hex.DecodeString("010000000000000049b900000000000041b9000047b90000")
	syms := []load.IDSym{
		{Name: "__BTF_ID__set8__btfrecon_test_kfunc_ids", Off: 0, Size: 16},
		{Name: "__BTF_ID__func__btfrecon_test_kfunc__25351", Off: 8, Size: 4},
		{Name: "__BTF_ID__struct__btfrecon_test__25460", Off: 16, Size: 4},
		{Name: "__BTF_ID__func__btfrecon_test_release__25561", Off: 20, Size: 4},
	}
	for _, tc := range []struct {
		release string
		n       int
	}{{"6.1.192+", 1}, {"6.7.12", 1}, {"6.8.0", 0}, {"6.12.117+deb13-amd64", 0}, {"7.2.13", 0}, {"garbage", 0}} {
		kf, err := load.KfuncsOn(tc.release, sec, binary.LittleEndian, syms)
		if err != nil || len(kf) != tc.n || tc.n == 1 && (kf[0].ID != 0xb949 || kf[0].Set != "btfrecon_test_kfunc_ids") {
			t.Errorf("%s: %+v, %v; want %d kfuncs", tc.release, kf, err, tc.n)
		}
	}
	if sec[4] != 0 {
		t.Errorf("KfuncsOn wrote into the section")
	}
}

func TestSet8sAreKfuncSets(t *testing.T) {
	for release, want := range map[string]bool{"6.1.192+": true, "6.7.12": true, "5.19.0": true,
		"6.8.0": false, "6.12.117+deb13-amd64": false, "7.2.13": false, "garbage": false, "": false} {
		if got := load.Set8sAreKfuncSets(release); got != want {
			t.Errorf("Set8sAreKfuncSets(%q) = %v, want %v", release, got, want)
		}
	}
}
