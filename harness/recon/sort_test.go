package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

// sortBase is [1] int, [2] struct foo.
func sortBase(t *testing.T) *btf.Spec {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	i := b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", 4, btf.Member{Name: "x", Type: i})
	s, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The order resolve_btfids' cmp_type_names gives (7.2's main.c, read):
// names ascending by strcmp, so the anonymous types first; equal names keep
// their id order. The expected split is written out by hand in that order,
// with every split id renumbered and base ids left alone.
func TestSortByNameHand(t *testing.T) {
	base := sortBase(t)
	names := []string{"zeta", "p", "alpha", "a", "Zed"}
	in := btf.NewBuilder(binary.LittleEndian, base)
	for _, n := range names {
		in.AddString(n)
	}
	// [3] STRUCT zeta {alpha *p (via [4]); int a}
	in.Struct("zeta", 16, btf.Member{Name: "p", Type: 4}, btf.Member{Name: "a", Type: 1, Offset: 64})
	in.Ptr(5)                                             // [4] PTR -> [5]
	in.Typedef("alpha", 3)                                // [5] TYPEDEF alpha -> zeta
	in.FuncProto(5, btf.Param{Name: "a", Type: 8})        // [6] FUNC_PROTO (alpha)(const foo)
	in.Struct("alpha", 4, btf.Member{Name: "a", Type: 1}) // [7] STRUCT alpha (same name as [5])
	in.Ref(btf.KindConst, "", 2)                          // [8] CONST -> foo (base)
	in.Struct("Zed", 8, btf.Member{Name: "p", Type: 6})   // [9] STRUCT Zed: 'Z' < 'a'
	split, err := in.Spec()
	if err != nil {
		t.Fatal(err)
	}

	// New order: [4] [6] [8] (anonymous, in id order), [9] Zed, [5] alpha,
	// [7] alpha, [3] zeta: 4->3 6->4 8->5 9->6 5->7 7->8 3->9.
	want := btf.NewBuilder(binary.LittleEndian, base)
	for _, n := range names {
		want.AddString(n)
	}
	want.Ptr(7)
	want.FuncProto(7, btf.Param{Name: "a", Type: 5})
	want.Ref(btf.KindConst, "", 2)
	want.Struct("Zed", 8, btf.Member{Name: "p", Type: 4})
	want.Typedef("alpha", 9)
	want.Struct("alpha", 4, btf.Member{Name: "a", Type: 1})
	want.Struct("zeta", 16, btf.Member{Name: "p", Type: 3}, btf.Member{Name: "a", Type: 1, Offset: 64})

	got, perm, err := SortByName(split)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got.Marshal(), want.Bytes(); !bytes.Equal(g, w) {
		t.Errorf("sorted split:\n got % x\nwant % x", g, w)
	}
	if w := []btf.TypeID{9, 3, 7, 4, 8, 5, 6}; !slices.Equal(perm, w) {
		t.Errorf("perm %v, want %v", perm, w)
	}
	if got.Header() != split.Header() {
		t.Errorf("header %+v, want the input's %+v", got.Header(), split.Header())
	}
}

func TestSortByNameRefusals(t *testing.T) {
	base := sortBase(t)
	if _, _, err := SortByName(base); !errors.Is(err, ErrNotSplit) {
		t.Errorf("a standalone BTF: %v, want ErrNotSplit", err)
	}
	in := btf.NewBuilder(binary.LittleEndian, base)
	in.Ptr(3)
	in.Ptr(4) // [4] -> [4]: fine
	split, err := in.Spec()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := split.Words()
	w[2] = 9 // [3] PTR -> [9]: past the end
	if _, _, err := SortByName(split); !errors.Is(err, btf.ErrTypeIDRange) {
		t.Errorf("an id past the end: %v, want ErrTypeIDRange", err)
	}
}

func TestProfileFor(t *testing.T) {
	cfg := func(pahole string) map[string]string {
		c := map[string]string{"CONFIG_DEBUG_INFO_BTF_MODULES": "y"}
		if pahole != "" {
			c["CONFIG_PAHOLE_VERSION"] = pahole
		}
		return c
	}
	for _, tc := range []struct {
		release string
		cfg     map[string]string
		want    Profile
	}{
		{"6.12.107+deb13", cfg("130"), ProfileLibbpf15},
		{"6.12.117", cfg("126"), ProfileLibbpf15},
		{"7.2.13+deb14", cfg("132"), Profile72},
		{"7.2.1", cfg(""), Profile72},
		{"6.12.107", cfg("124"), 0},                // bookworm: no .BTF.base at all
		{"6.12.107", cfg(""), 0},                   // no pahole version: not guessed
		{"6.13.1", cfg("130"), 0},                  // not read
		{"7.3.0+deb14", cfg("132"), 0},             // not read
		{"6.12.107+deb13", map[string]string{}, 0}, // no module BTF
		{"x.y", cfg("130"), 0},
	} {
		got, err := ProfileFor(tc.release, tc.cfg)
		if tc.want == 0 {
			if !errors.Is(err, ErrNoProfile) {
				t.Errorf("%s %v: %v, %v; want ErrNoProfile", tc.release, tc.cfg, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %v: %v, %v; want %v", tc.release, tc.cfg, got, err, tc.want)
		}
	}
}

// The profiles chosen from real Debian kernels' own configs.
func TestProfileForRealConfigs(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    Profile
	}{
		{"6.12.107+deb13", ProfileLibbpf15}, // trixie: CONFIG_PAHOLE_VERSION=130
		{"7.2.13+deb14", Profile72},         // sid: 132
		{"6.12.107", 0},                     // bookworm: 124
	} {
		k := realdata.Kernel(t, tc.release, "amd64")
		cfg, err := k.Config()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ProfileFor(k.Release, cfg)
		if tc.want == 0 {
			if !errors.Is(err, ErrNoProfile) {
				t.Errorf("%s: %v, %v; want ErrNoProfile", tc.release, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.release, got, err, tc.want)
		}
	}
}

// Real modules built by the kernels' own toolchains (harness/modbuild:
// make modbuild-testdata): pahole's split before distillation (split.btf)
// and the .BTF and .BTF.base the build wrote. The profile chosen for the
// kernel, run on the same split and the kernel's vmlinux BTF, must write
// the same bytes.
func TestProfilesOnRealModules(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "modbuild", "*", "*"))
	if len(dirs) == 0 {
		t.Fatal("no testdata/modbuild/<kernel>-<arch>/<module>")
	}
	for _, dir := range dirs {
		kernelArch := filepath.Base(filepath.Dir(dir))
		i := len(kernelArch) - len("-amd64")
		release, arch := kernelArch[:i], kernelArch[i+1:]
		t.Run(kernelArch+"/"+filepath.Base(dir), func(t *testing.T) {
			k := realdata.Kernel(t, release, arch)
			cfg, err := k.Config()
			if err != nil {
				t.Fatal(err)
			}
			p, err := ProfileFor(k.Release, cfg)
			if err != nil {
				t.Fatal(err)
			}
			base, _ := realdata.Vmlinux(t, release, arch)
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			split, err := btf.ParseSplit(read("split.btf"), base)
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Distill(base, split)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name  string
				model []byte
			}{{"BTF.base", d.Base.Marshal()}, {"BTF", d.Split.Marshal()}} {
				if real := read(c.name); !bytes.Equal(real, c.model) {
					t.Errorf("%v: .%s: model %d bytes, the kernel's build %d, first difference at %d",
						p, c.name, len(c.model), len(real), firstDiff(real, c.model))
				}
			}
			if (p == Profile72) != (d.Perm != nil) {
				t.Errorf("%v: perm %v", p, d.Perm != nil)
			}
			// The other profile does not write these bytes: the header
			// and, on 7.2, the name sort are the kernel's own.
			other := ProfileLibbpf15
			if p == ProfileLibbpf15 {
				other = Profile72
			}
			if o, err := other.Distill(base, split); err == nil && bytes.Equal(o.Split.Marshal(), read("BTF")) {
				t.Errorf("%v also reproduces the .BTF of a %v kernel", other, p)
			}
		})
	}
}

// The same real modules, distilled by the libbpf of the kernel's flow
// (1.5 for 6.12's pahole, 1.8 for 7.2's resolve_btfids) from the split the
// capture kept: libbpf writes the build's .BTF.base, and its new split is the
// build's .BTF (6.12) or, sorted by SortByName, is (7.2). So the kept split
// is what the build distilled, and the sort is all 7.2 adds.
func TestRealModulesLibbpf(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "modbuild", "*", "*"))
	for _, dir := range dirs {
		kernelArch := filepath.Base(filepath.Dir(dir))
		i := len(kernelArch) - len("-amd64")
		release, arch := kernelArch[:i], kernelArch[i+1:]
		t.Run(kernelArch+"/"+filepath.Base(dir), func(t *testing.T) {
			v := oracle.V15
			if strings.HasPrefix(release, "7.2.") {
				v = oracle.V18
			}
			o := v.Require(t)
			raw := realdata.VmlinuxBTF(t, release, arch)
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			d, s, err := o.Distill(raw, read("split.btf"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d, read("BTF.base")) {
				t.Errorf("%s: distilled base differs from the build's .BTF.base", o.Name())
			}
			if v == oracle.V15 {
				if !bytes.Equal(s, read("BTF")) {
					t.Errorf("%s: new split differs from the build's .BTF", o.Name())
				}
				return
			}
			db, err := btf.Parse(d)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := btf.ParseSplit(s, db)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(s, read("BTF")) {
				t.Errorf("%s's unsorted split is already the build's .BTF: nothing sorted", o.Name())
			}
			sorted, _, err := SortByName(ss)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sorted.Marshal(), read("BTF")) {
				t.Errorf("%s's split sorted by SortByName differs from the build's .BTF", o.Name())
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
