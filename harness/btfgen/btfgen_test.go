package btfgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Every generated case decodes, is deterministic for its seed, and the
// corpus of cases covers every kind in base and split.
func TestGenerate(t *testing.T) {
	seen := map[btf.Kind]bool{}
	for seed := range uint64(300) {
		opt := Options{BigEndian: seed%5 == 0}
		c, err := New(seed, opt)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := New(seed, opt)
		if !bytes.Equal(c.Base, again.Base) || !bytes.Equal(c.Split, again.Split) || len(c.Targets) != len(again.Targets) {
			t.Fatalf("seed %d is not deterministic", seed)
		}
		for i := range c.Targets {
			if c.Targets[i].Name != again.Targets[i].Name || !bytes.Equal(c.Targets[i].BTF, again.Targets[i].BTF) {
				t.Fatalf("seed %d target %d is not deterministic", seed, i)
			}
		}
		base, err := btf.Parse(c.Base)
		if err != nil {
			t.Fatal(err)
		}
		if want := binary.ByteOrder(binary.LittleEndian); opt.BigEndian {
			want = binary.BigEndian
			if base.Order() != want {
				t.Fatalf("seed %d: base in %v, want %v", seed, base.Order(), want)
			}
		}
		split, err := btf.ParseSplit(c.Split, base)
		if err != nil {
			t.Fatal(err)
		}
		for id := btf.TypeID(1); id < split.NumIDs(); id++ {
			typ, _ := split.Type(id)
			seen[typ.Kind()] = true
		}
		if len(c.Targets) != 4 {
			t.Fatalf("seed %d: %d targets", seed, len(c.Targets))
		}
		for _, tg := range c.Targets {
			ts, err := btf.Parse(tg.BTF)
			if err != nil {
				t.Fatalf("seed %d target %s: %v", seed, tg.Name, err)
			}
			if ts.Order() != base.Order() {
				t.Fatalf("seed %d target %s: byte order %v, base %v", seed, tg.Name, ts.Order(), base.Order())
			}
		}
		if c.Distilled != nil || c.NewSplit != nil || c.Hostile != "" {
			t.Fatalf("seed %d: distilled without Options.Distill", seed)
		}
	}
	for k := btf.KindInt; k <= btf.MaxKind; k++ {
		if !seen[k] {
			t.Errorf("no %s generated in 300 cases", k)
		}
	}
}

// The split holds the shapes modules have, each on base types: a holder
// struct with members of a base type directly and through a typedef, a
// const and an array, a pointer, a function, a variable in a section, a
// decl tag on a struct member.
func TestSplitShapes(t *testing.T) {
	seen := map[string]int{}
	for seed := range uint64(100) {
		c, err := New(seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		base, _ := btf.Parse(c.Base)
		split, _ := btf.ParseSplit(c.Split, base)
		nb := base.NumIDs()
		typ := func(id uint32) btf.Type { ty, _ := split.Type(btf.TypeID(id)); return ty }
		inBase := func(id uint32) bool { return id != 0 && btf.TypeID(id) < nb }
		for i := range split.NumLocal() {
			ty := split.Local(i)
			name := split.Name(ty)
			switch {
			case ty.Kind() == btf.KindStruct && strings.HasPrefix(name, "holder"):
				for m := range ty.Vlen() {
					mt := ty.W[3+3*m+1]
					switch mty := typ(mt); {
					case inBase(mt):
						seen["holder: base type by value"]++
					case mty.Kind() == btf.KindTypedef && strings.HasPrefix(split.Name(mty), "s_t") && inBase(mty.W[2]):
						seen["holder: base type through a typedef"]++
					case mty.Kind() == btf.KindConst && inBase(mty.W[2]):
						seen["holder: base type through a const"]++
					case mty.Kind() == btf.KindArray && inBase(mty.W[3]) && mty.W[5] == 2:
						seen["holder: array of a base type"]++
					}
				}
			case ty.Kind() == btf.KindPtr && inBase(ty.W[2]):
				seen["pointer to a base type"]++
			case ty.Kind() == btf.KindFunc && strings.HasPrefix(name, "fn"):
				if p := typ(ty.W[2]); p.Kind() == btf.KindFuncProto && inBase(p.W[2]) && p.Vlen() == 1 && inBase(p.W[4]) {
					seen["function on base types"]++
				}
			case ty.Kind() == btf.KindDatasec && name == ".data" && ty.Vlen() == 1:
				if v := typ(ty.W[3]); v.Kind() == btf.KindVar && inBase(v.W[2]) {
					seen["variable of a base type in a section"]++
				}
			case ty.Kind() == btf.KindDeclTag && name == "t" && ty.W[3] == 0:
				if s := typ(ty.W[2]); s.Kind() == btf.KindStruct && split.Name(s) == "tagged" && inBase(s.W[4]) {
					seen["decl tag on a member holding a base type"]++
				}
			}
		}
	}
	for _, shape := range []string{"holder: base type by value", "holder: base type through a typedef",
		"holder: base type through a const", "holder: array of a base type", "pointer to a base type",
		"function on base types", "variable of a base type in a section", "decl tag on a member holding a base type"} {
		if seen[shape] < 10 {
			t.Errorf("%s: %d in 100 cases, want at least 10", shape, seen[shape])
		}
	}
}

// spec emits nodes as a standalone BTF, in node order.
func spec(t *testing.T, nodes []node) *btf.Spec {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	emit(b, nodes, identity(len(nodes)), nil)
	s, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// canon is local type i of s as words, its string fields replaced by the
// strings they name: two BTF with different string tables compare equal
// when their types say the same.
func canon(s *btf.Spec, i int) []string {
	t := s.Local(i)
	strs := t.StringFields(nil)
	out := make([]string, len(t.W))
	for w, v := range t.W {
		if slices.Contains(strs, w) {
			name, _ := s.String(v)
			out[w] = "'" + name + "'"
		} else {
			out[w] = fmt.Sprint(v)
		}
	}
	return out
}

// differing returns the local indexes of a and b (with as many types)
// whose types differ.
func differing(a, b *btf.Spec) []int {
	var d []int
	for i := range a.NumLocal() {
		if !slices.Equal(canon(a, i), canon(b, i)) {
			d = append(d, i)
		}
	}
	return d
}

// sameBut says whether type i of a and type j of b differ at most in the
// words listed.
func sameBut(a *btf.Spec, i int, b *btf.Spec, j int, words ...int) bool {
	x, y := canon(a, i), canon(b, j)
	if len(x) != len(y) {
		return false
	}
	for w := range x {
		if x[w] != y[w] && !slices.Contains(words, w) {
			return false
		}
	}
	return true
}

// Each mutation, made alone on a base, changes the target BTF exactly the
// way it names, judged from the decoded base and target.
func TestMutations(t *testing.T) {
	applied := make([]int, numMutations)
	var edits, onUsed int
	for seed := range uint64(150) {
		for op := range numMutations {
			g, nbase := newGen(seed, Options{}.withDefaults())
			nodes := append([]node(nil), g.nodes[:nbase]...)
			base := spec(t, nodes)
			what := g.mutateOne(&nodes, op)
			tg := spec(t, nodes)
			if what == "" {
				if !bytes.Equal(base.Marshal(), tg.Marshal()) {
					t.Fatalf("seed %d op %d: no edit said, but the target differs", seed, op)
				}
				continue
			}
			applied[op]++
			fail := func(why string) {
				t.Helper()
				var bd, td strings.Builder
				base.Dump(&bd)
				tg.Dump(&td)
				t.Fatalf("seed %d op %d (%s): %s\nbase:\n%s\ntarget:\n%s", seed, op, what, why, bd.String(), td.String())
			}
			name := func(s *btf.Spec, i int) string { return s.Name(s.Local(i)) }
			switch op {
			case mutResize, mutFlag, mutIntData, mutRename, mutStructUnion, mutEmptyName, mutEnum64:
				d := differing(base, tg)
				if base.NumLocal() != tg.NumLocal() || len(d) != 1 {
					fail("want one type changed in place")
				}
				i := d[0]
				edits++
				if g.nodes[i].used {
					onUsed++
				}
				bt, tt := base.Local(i), tg.Local(i)
				ok := false
				switch op {
				case mutResize:
					ok = sized(bt.Kind()) && sameBut(base, i, tg, i, 2)
				case mutFlag:
					ok = tt.W[1] == bt.W[1]^1<<31 && sameBut(base, i, tg, i, 1)
				case mutIntData:
					ok = bt.Kind() == btf.KindInt && sameBut(base, i, tg, i, 3)
				case mutRename:
					ok = name(tg, i) != "" && name(tg, i) != name(base, i) && sameBut(base, i, tg, i, 0)
				case mutStructUnion:
					ok = (bt.Kind() == btf.KindStruct && tt.Kind() == btf.KindUnion ||
						bt.Kind() == btf.KindUnion && tt.Kind() == btf.KindStruct) &&
						tt.W[1] == btf.MakeInfo(tt.Kind(), bt.Vlen(), bt.KindFlag()) && sameBut(base, i, tg, i, 1)
				case mutEmptyName:
					ok = name(base, i) != "" && tt.NameOff() != 0 && name(tg, i) == "" && sameBut(base, i, tg, i, 0)
				case mutEnum64:
					ok = (bt.Kind() == btf.KindEnum && tt.Kind() == btf.KindEnum64 ||
						bt.Kind() == btf.KindEnum64 && tt.Kind() == btf.KindEnum) &&
						bt.SizeType() == 8 && tt.SizeType() == 8 && name(base, i) == name(tg, i) &&
						tt.W[1] == btf.MakeInfo(tt.Kind(), bt.Vlen(), bt.KindFlag())
				}
				if !ok {
					fail("the changed type is not changed that way")
				}
			case mutDup, mutDupResized, mutFwdSame:
				n := base.NumLocal()
				if tg.NumLocal() != n+1 || len(differing(base, tg)) != 0 {
					fail("want one type appended, the others kept")
				}
				last := tg.Local(n)
				found := false
				for i := range n {
					bt := base.Local(i)
					switch op {
					case mutDup:
						found = found || name(base, i) != "" && sameBut(base, i, tg, n)
					case mutDupResized:
						found = found || name(base, i) != "" && sized(bt.Kind()) && sameBut(base, i, tg, n, 2) && last.SizeType() != bt.SizeType()
					case mutFwdSame:
						found = found || last.Kind() == btf.KindFwd && name(base, i) != "" && name(base, i) == name(tg, n)
					}
				}
				if !found {
					fail("the appended type is not the copy or FWD of a named base type")
				}
			case mutFwdAnywhere, mutPadFirst:
				k := tg.NumLocal() - base.NumLocal()
				var kept []string
				var added []int
				var fmtd strings.Builder
				for i := range tg.NumLocal() {
					ty := tg.Local(i)
					if op == mutFwdAnywhere && ty.Kind() == btf.KindFwd || op == mutPadFirst && i < k {
						added = append(added, i)
					}
					kept = append(kept, ty.Kind().String()+" "+name(tg, i))
				}
				for i := range base.NumLocal() {
					fmtd.WriteString(base.Local(i).Kind().String() + " " + name(base, i) + "\n")
				}
				switch op {
				case mutFwdAnywhere:
					var fwds int
					for i := range base.NumLocal() {
						if base.Local(i).Kind() == btf.KindFwd {
							fwds++
						}
					}
					if k != 1 || len(added) != fwds+1 {
						fail("want one FWD inserted")
					}
				case mutPadFirst:
					if k < 1 || k > 3 {
						fail("want 1 to 3 types first")
					}
					for _, i := range added {
						if ty := tg.Local(i); ty.Kind() != btf.KindInt || name(tg, i) != "pad" || ty.SizeType() != 1 {
							fail("the types first are not INT 'pad' size=1")
						}
					}
					// the rest is the base, every id moved by k
					if strings.Join(kept[k:], "\n")+"\n" != fmtd.String() {
						fail("the base does not follow the inserted types")
					}
					for i := range base.NumLocal() {
						bt, tt := base.Local(i), tg.Local(i+k)
						for _, f := range bt.IDFields(nil) {
							if bt.W[f] != 0 && tt.W[f] != bt.W[f]+uint32(k) || bt.W[f] == 0 && tt.W[f] != 0 {
								fail("a reference was not renumbered")
							}
						}
					}
				}
			}
		}
	}
	for op, n := range applied {
		if n < 20 {
			t.Errorf("mutation %d applied %d times in 150 bases, want at least 20", op, n)
		}
	}
	t.Logf("%d of %d edits in place hit a base type the split uses", onUsed, edits)
	// three in four edits go to a type the split uses, when there is one
	// (without that preference, about half of them do)
	if onUsed*3 < edits*2 {
		t.Errorf("%d of %d edits in place hit a base type the split uses, want two thirds or more", onUsed, edits)
	}
}

// With Options.Distill the case is distilled (the same bytes the model
// gives), and with Options.Hostile about one case in Hostile gets one edit
// of one type: of the distilled base, or of a split string field pointed
// into the distilled base's strings.
func TestHostile(t *testing.T) {
	const every = 6
	var distilled, hostile, onBase, onSplit int
	for seed := range uint64(600) {
		opt := Options{Distill: recon.Distill, Hostile: every, BigEndian: seed%9 == 0}
		c, err := New(seed, opt)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := New(seed, opt)
		if !bytes.Equal(c.Distilled, again.Distilled) || !bytes.Equal(c.NewSplit, again.NewSplit) || c.Hostile != again.Hostile {
			t.Fatalf("seed %d: not deterministic", seed)
		}
		plain, _ := New(seed, Options{BigEndian: opt.BigEndian})
		if !bytes.Equal(plain.Split, c.Split) || !bytes.Equal(plain.Targets[3].BTF, c.Targets[3].BTF) {
			t.Fatalf("seed %d: Distill changes the case", seed)
		}
		base, _ := btf.Parse(c.Base)
		split, _ := btf.ParseSplit(c.Split, base)
		d, s2, err := recon.Distill(base, split)
		if err != nil {
			if c.DistillErr == nil || c.Distilled != nil {
				t.Fatalf("seed %d: the model refuses (%v), the case has %v", seed, err, c.DistillErr)
			}
			continue
		}
		distilled++
		dRaw, sRaw := d.Marshal(), s2.Marshal()
		if c.Hostile == "" {
			if !bytes.Equal(c.Distilled, dRaw) || !bytes.Equal(c.NewSplit, sRaw) {
				t.Fatalf("seed %d: no hostile edit said, but the bytes are not the model's", seed)
			}
			continue
		}
		hostile++
		hd, err := btf.Parse(c.Distilled)
		if err != nil {
			t.Fatalf("seed %d (%s): distilled base does not decode: %v", seed, c.Hostile, err)
		}
		hs, err := btf.ParseSplit(c.NewSplit, hd)
		if err != nil {
			t.Fatalf("seed %d (%s): new split does not decode: %v", seed, c.Hostile, err)
		}
		switch {
		case !bytes.Equal(c.Distilled, dRaw) && bytes.Equal(c.NewSplit, sRaw):
			onBase++
			if hd.NumLocal() != d.NumLocal() || len(differing(d, hd)) != 1 || !bytes.Equal(hd.Strings(), d.Strings()) {
				t.Fatalf("seed %d (%s): want one distilled type edited", seed, c.Hostile)
			}
		case bytes.Equal(c.Distilled, dRaw) && !bytes.Equal(c.NewSplit, sRaw):
			onSplit++
			// the same string table: compare the words as they are
			var changed [][2]int
			for i := range s2.NumLocal() {
				for w := range s2.Local(i).W {
					if s2.Local(i).W[w] != hs.Local(i).W[w] {
						changed = append(changed, [2]int{i, w})
					}
				}
			}
			if !bytes.Equal(hs.Strings(), s2.Strings()) || len(changed) != 1 {
				t.Fatalf("seed %d (%s): %d split words edited, want 1", seed, c.Hostile, len(changed))
			}
			is, w := hs.Local(changed[0][0]), changed[0][1]
			if !slices.Contains(is.StringFields(nil), w) || is.W[w] == 0 || is.W[w] >= d.StrEnd() {
				t.Fatalf("seed %d (%s): want one string field pointed into the distilled base's strings", seed, c.Hostile)
			}
		default:
			t.Fatalf("seed %d (%s): want exactly one of distilled base and split edited", seed, c.Hostile)
		}
	}
	if hostile*every*2 < distilled || hostile*every > 2*distilled {
		t.Errorf("%d hostile cases of %d distilled, want about one in %d", hostile, distilled, every)
	}
	if onBase < 10 || onSplit < 10 {
		t.Errorf("hostile edits: %d of a distilled base, %d of a split; want at least 10 each", onBase, onSplit)
	}
	t.Logf("%d cases distilled, %d hostile (%d distilled base, %d split)", distilled, hostile, onBase, onSplit)
}
