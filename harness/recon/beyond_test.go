package recon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

// The contract's section "Where the model goes beyond upstream" (verified
// 2026-12-01), bullet by bullet, and the test that pins each. A bullet
// without a row here is a claim nobody checks.
func TestBeyondUpstream(t *testing.T) {
	for _, row := range []struct {
		name, bullet string
		pin          func(*testing.T)
	}{
		{"cycle", "A typedef or ARRAY cycle under a split struct member: upstream's embedded-marking walk never ends; the model refuses with -ELOOP.",
			TestRelocateMemberCycle},
		{"void-name", `A target type whose non-zero name offset names "" matches D's void: -EINVAL (as upstream).`,
			TestRelocateVoidName},
		{"empty-distilled-base", "btf__distill_base() with an empty distilled base writes a split whose ids refer to types that do not exist; the model writes the correct split (a known, deliberate difference).",
			TestUpstreamBugEmptyDistilledBase},
		{"split-ids", "Upstream relocation trusts the split's ids (member/array elem id past the end; ids in PTR targets, FUNC_PROTO, VAR, DATASEC, DECL_TAG, array index type); the model range-checks every id and string first: at decoding,",
			TestSplitRefsPastTheEnd},
		{"split-ids/edited", "... and again in the model itself, for a Spec edited after decoding.",
			TestModelRangeChecks},
	} {
		t.Run(row.name, func(t *testing.T) {
			t.Log(row.bullet)
			row.pin(t)
		})
	}
}

// oracleRelocateTimeout runs libbpf's btf__relocate through the oracle
// driver's command line ("relocate DIST SPLIT TARGET OUT") and reports
// whether it was still running after d. Oracle.Relocate has no deadline.
func oracleRelocateTimeout(t *testing.T, o *oracle.Oracle, d time.Duration, dRaw, sRaw, tRaw []byte) (hung bool, err error) {
	t.Helper()
	dir := t.TempDir()
	var args []string
	for i, b := range [][]byte{dRaw, sRaw, tRaw} {
		p := filepath.Join(dir, []string{"distilled", "split", "target"}[i])
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err = exec.CommandContext(ctx, o.Path, append([]string{"relocate"}, append(args, filepath.Join(dir, "out"))...)...).Run()
	return ctx.Err() != nil, err
}

// A cycle of modifiers, typedefs or arrays under a split composite's
// member: the contract says upstream's embedded-marking walk never returns
// (libbpf 1.5 is asked, with a deadline) and the model refuses with
// -ELOOP, naming the composite. A cycle behind a PTR is never walked: both
// relocate it, byte for byte alike. libbpf 1.8 hangs as 1.5 does.
func TestRelocateMemberCycle(t *testing.T) {
	ors := oracles(t)
	target, tRaw := intTarget(t) // [1] long, [2] int
	for _, tc := range []struct {
		name  string
		split func(b *btf.Builder) // on D = [1] INT 'int'; split ids from 2
		fault string               // the composite named in the refusal; "" = relocates
		reloc string               // on success: the relocated split (target nb 3, so split ids +1)
	}{
		{"TYPEDEF a -> TYPEDEF b -> a", func(b *btf.Builder) {
			b.Typedef("a", 3)                   // [2]
			b.Typedef("b", 2)                   // [3]
			b.Struct("holder", 4, m("x", 2, 0)) // [4]
		}, "[4] STRUCT 'holder' size=4", ""},
		{"ARRAY whose element is itself", func(b *btf.Builder) {
			b.Array(2, 1, 2)                    // [2]
			b.Struct("holder", 8, m("x", 2, 0)) // [3]
		}, "[3] STRUCT 'holder' size=8", ""},
		{"ARRAY -> TYPEDEF -> ARRAY", func(b *btf.Builder) {
			b.Array(3, 1, 2)                    // [2]
			b.Typedef("t", 2)                   // [3]
			b.Struct("holder", 8, m("x", 2, 0)) // [4]
		}, "[4] STRUCT 'holder' size=8", ""},
		{"CONST -> VOLATILE -> CONST under a UNION", func(b *btf.Builder) {
			b.Ref(btf.KindConst, "", 3)        // [2]
			b.Ref(btf.KindVolatile, "", 2)     // [3]
			b.Union("holder", 4, m("x", 2, 0)) // [4]
		}, "[4] UNION 'holder' size=4", ""},
		{"TYPE_TAG -> itself, second member", func(b *btf.Builder) {
			b.Ref(btf.KindTypeTag, "tag", 2)                   // [2]
			b.Struct("holder", 8, m("a", 1, 0), m("x", 2, 32)) // [3]
		}, "[3] STRUCT 'holder' size=8", ""},
		{"typedef cycle behind a PTR (not walked)", func(b *btf.Builder) {
			b.Typedef("a", 3)                   // [2]
			b.Typedef("b", 2)                   // [3]
			b.Ptr(2)                            // [4]
			b.Struct("holder", 8, m("p", 4, 0)) // [5]
		}, "", lines(
			"[3] TYPEDEF 'a' type_id=4",
			"[4] TYPEDEF 'b' type_id=3",
			"[5] PTR '(anon)' type_id=3",
			"[6] STRUCT 'holder' size=8 vlen=1\n\t'p' type_id=5 bits_offset=0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, s, dRaw, sRaw := handMade(t, func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned) }, tc.split)
			rel, _, err := Relocate(d, s, target)
			if tc.fault == "" {
				if err != nil {
					t.Fatalf("model: %v, want a relocation", err)
				}
				if got := dump(t, rel); got != tc.reloc {
					t.Fatalf("relocated:\n%s\nwant:\n%s", got, tc.reloc)
				}
				for _, o := range ors {
					orel, oerr := o.Relocate(dRaw, sRaw, tRaw)
					if oerr != nil || !bytes.Equal(rel.Marshal(), orel) {
						t.Fatalf("%s: %v, or bytes differ from the model's", o.Name(), oerr)
					}
				}
				return
			}
			var re *Error
			if !errors.As(err, &re) || re.Reason != ErrCycle || Errno(err) != -int(syscall.ELOOP) {
				t.Fatalf("model: %v, want ErrCycle (-ELOOP)", err)
			}
			if !strings.HasPrefix(re.Type.String(), tc.fault) {
				t.Fatalf("refusal names %s, want %s", re.Type, tc.fault)
			}
			for _, o := range ors {
				hung, oerr := oracleRelocateTimeout(t, o, 2*time.Second, dRaw, sRaw, tRaw)
				if !hung {
					t.Fatalf("%s returned (%v): the contract says its walk never ends", o.Name(), oerr)
				}
			}
		})
	}
}

// A target type whose name offset is not 0 but names "" (here offset 4,
// the NUL ending "int") has the key of the distilled base's void when its
// key is the name alone, or name and size 0: upstream fails the whole
// relocation (-EINVAL), and so does the model. A sized key with another
// size, or a kind with no key, does not meet void.
func TestRelocateVoidName(t *testing.T) {
	ors := oracles(t)
	d, s, dRaw, sRaw := handMade(t,
		func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned) }, // [1]
		ptrTo(1)) // [2]
	const empty = 4 // offset of the NUL that ends "int" in every target below
	for _, tc := range []struct {
		name  string
		add   func(b *btf.Builder) // target types after [1] INT 'int'
		errno int
		reloc string
	}{
		{"unique STRUCT (key: name)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindStruct, 0, false), 8)
		}, einval, ""},
		{"unique UNION (key: name)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindUnion, 0, false), 8)
		}, einval, ""},
		{"FWD (key: name)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindFwd, 0, false), 0)
		}, einval, ""},
		{"INT of size 0 (key: name and size 0)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindInt, 0, false), 0, 0)
		}, einval, ""},
		{"two STRUCTs of sizes 8 and 0 (key: name and size)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindStruct, 0, false), 8)
			b.Add(empty, btf.MakeInfo(btf.KindStruct, 0, false), 0)
		}, einval, ""},
		{"INT of size 4 (key: name and size 4)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindInt, 0, false), 4, 32)
		}, 0, lines("[3] PTR '(anon)' type_id=1")},
		{"ENUM of size 4", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindEnum, 0, false), 4)
		}, 0, lines("[3] PTR '(anon)' type_id=1")},
		{"two STRUCTs of sizes 8 and 16", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindStruct, 0, false), 8)
			b.Add(empty, btf.MakeInfo(btf.KindStruct, 0, false), 16)
		}, 0, lines("[4] PTR '(anon)' type_id=1")},
		{"TYPEDEF (no key)", func(b *btf.Builder) {
			b.Add(empty, btf.MakeInfo(btf.KindTypedef, 0, false), 1)
		}, 0, lines("[3] PTR '(anon)' type_id=1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := btf.NewBuilder(binary.LittleEndian, nil)
			b.Int("int", 4, btf.IntSigned)
			tc.add(b)
			target, err := b.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := target.String(empty); got != "" || target.Name(target.Local(0)) != "int" {
				t.Fatalf("target strings are not laid out as the test assumes")
			}
			rel, _, err := Relocate(d, s, target)
			orels := map[*oracle.Oracle][]byte{}
			for _, o := range ors {
				orel, oerr := o.Relocate(dRaw, sRaw, b.Bytes())
				if Errno(err) != tc.errno || oracleErrno(oerr) != tc.errno {
					t.Fatalf("errno: model %d (%v), %s %d (%v), want %d", Errno(err), err, o.Name(), oracleErrno(oerr), oerr, tc.errno)
				}
				orels[o] = orel
			}
			if tc.errno != 0 {
				if !errors.Is(err, ErrVoidCandidate) {
					t.Fatalf("model: %v, want ErrVoidCandidate", err)
				}
				return
			}
			if got := dump(t, rel); got != tc.reloc {
				t.Fatalf("relocated:\n%s\nwant:\n%s", got, tc.reloc)
			}
			for o, orel := range orels {
				if !bytes.Equal(rel.Marshal(), orel) {
					t.Fatalf("relocated bytes differ from %s's", o.Name())
				}
			}
		})
	}
}

// A split whose id or string fields point past the end, field kind by field
// kind. The model never gets such a split: decoding refuses it, naming the
// type and the field. libbpf's parser refuses most of them too (-EINVAL)
// but checks neither a FUNC_PROTO's return type nor a FWD's type field,
// both of which btf__relocate then looks up in its id map without a bound:
// it does not refuse those (it succeeds with whatever lies past the map, or
// crashes).
func TestSplitRefsPastTheEnd(t *testing.T) {
	ors := oracles(t)
	d, dRaw := func() (*btf.Spec, []byte) {
		b := btf.NewBuilder(binary.LittleEndian, nil)
		b.Int("int", 4, btf.IntSigned) // [1]
		s, err := b.Spec()
		if err != nil {
			t.Fatal(err)
		}
		return s, b.Bytes()
	}()
	_, tRaw := intTarget(t)
	const past = 9 // D + split hold ids 0..2 or 0..3 below
	for _, tc := range []struct {
		name   string
		split  func(b *btf.Builder) // split ids from 2
		id     btf.TypeID           // the type the decoder names
		want   string               // and how it names the field
		sent   error
		libbpf bool // libbpf's parser refuses it too
	}{
		{"STRUCT member type", func(b *btf.Builder) { b.Struct("s", 4, m("a", 1, 0), m("b", past, 0)) },
			2, "STRUCT member 1 type refers to type [9]", btf.ErrTypeIDRange, true},
		{"UNION member type", func(b *btf.Builder) { b.Union("u", 4, m("a", past, 0)) },
			2, "UNION member 0 type refers to type [9]", btf.ErrTypeIDRange, true},
		{"ARRAY elem type", func(b *btf.Builder) { b.Array(past, 1, 2) },
			2, "ARRAY elem type refers to type [9]", btf.ErrTypeIDRange, true},
		{"ARRAY index_type", func(b *btf.Builder) { b.Array(1, past, 2) },
			2, "ARRAY index_type refers to type [9]", btf.ErrTypeIDRange, true},
		{"PTR type", func(b *btf.Builder) { b.Ptr(1); b.Ptr(past) },
			3, "PTR type refers to type [9]", btf.ErrTypeIDRange, true},
		{"TYPEDEF type", func(b *btf.Builder) { b.Typedef("t", past) },
			2, "TYPEDEF type refers to type [9]", btf.ErrTypeIDRange, true},
		{"CONST type", func(b *btf.Builder) { b.Ref(btf.KindConst, "", past) },
			2, "CONST type refers to type [9]", btf.ErrTypeIDRange, true},
		{"VOLATILE type", func(b *btf.Builder) { b.Ref(btf.KindVolatile, "", past) },
			2, "VOLATILE type refers to type [9]", btf.ErrTypeIDRange, true},
		{"RESTRICT type", func(b *btf.Builder) { b.Ref(btf.KindRestrict, "", past) },
			2, "RESTRICT type refers to type [9]", btf.ErrTypeIDRange, true},
		{"TYPE_TAG type", func(b *btf.Builder) { b.Ref(btf.KindTypeTag, "tag", past) },
			2, "TYPE_TAG type refers to type [9]", btf.ErrTypeIDRange, true},
		{"FUNC_PROTO param type", func(b *btf.Builder) { b.FuncProto(1, p("a", 1), p("b", past)) },
			2, "FUNC_PROTO param 1 type refers to type [9]", btf.ErrTypeIDRange, true},
		{"FUNC type", func(b *btf.Builder) { b.Func("f", past, 0) },
			2, "FUNC type refers to type [9]", btf.ErrTypeIDRange, true},
		{"VAR type", func(b *btf.Builder) { b.Var("v", past, 0) },
			2, "VAR type refers to type [9]", btf.ErrTypeIDRange, true},
		{"DATASEC var_secinfo type", func(b *btf.Builder) {
			v := b.Var("v", 1, 1)
			b.Datasec(".data", 8, btf.SecInfo{Type: v, Size: 4}, btf.SecInfo{Type: past, Offset: 4, Size: 4})
		}, 3, "DATASEC var_secinfo 1 type refers to type [9]", btf.ErrTypeIDRange, true},
		{"DECL_TAG type", func(b *btf.Builder) { b.DeclTag("tag", past, -1) },
			2, "DECL_TAG type refers to type [9]", btf.ErrTypeIDRange, true},
		{"name_off", func(b *btf.Builder) { b.Add(5000, btf.MakeInfo(btf.KindStruct, 0, false), 0) },
			2, "STRUCT name_off: string offset 5000", btf.ErrStringRange, true},
		{"member name_off", func(b *btf.Builder) { b.Add(0, btf.MakeInfo(btf.KindStruct, 1, false), 4, 5000, 1, 0) },
			2, "STRUCT member 0 name_off: string offset 5000", btf.ErrStringRange, true},
		{"FUNC_PROTO return type", func(b *btf.Builder) { b.FuncProto(past) },
			2, "FUNC_PROTO return type refers to type [9]", btf.ErrTypeIDRange, false},
		{"FUNC_PROTO return type far past the end", func(b *btf.Builder) { b.FuncProto(1 << 30) },
			2, "FUNC_PROTO return type refers to type [1073741824]", btf.ErrTypeIDRange, false},
		{"FWD type", func(b *btf.Builder) { b.Add(b.AddString("f"), btf.MakeInfo(btf.KindFwd, 0, false), past) },
			2, "FWD type refers to type [9]", btf.ErrTypeIDRange, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := btf.NewBuilder(binary.LittleEndian, d)
			tc.split(sb)
			sRaw := sb.Bytes()
			_, err := btf.ParseSplit(sRaw, d)
			var be *btf.Error
			if !errors.As(err, &be) || !errors.Is(err, tc.sent) || be.ID != tc.id || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decoding: %v\nwant type [%d], %q, %v", err, tc.id, tc.want, tc.sent)
			}
			t.Logf("model: %v", err)
			for _, o := range ors {
				_, oerr := o.Relocate(dRaw, sRaw, tRaw)
				switch errno := oracleErrno(oerr); {
				case tc.libbpf && errno != einval:
					t.Fatalf("%s: %v, want -EINVAL from its parser", o.Name(), oerr)
				case !tc.libbpf && errno == einval:
					t.Fatalf("%s refused it (%v): it checks this field now, update the contract and this row", o.Name(), oerr)
				}
				t.Logf("%s: %v", o.Name(), oerr)
			}
		})
	}
}

// The model's own range checks, for Specs edited in place after decoding
// (Type.W aliases a Spec's words): a refusal that names the type and the
// field and wraps the codec's sentinel, never a panic or a silent 0. Every
// poke below starts from a split, distilled base, target or full base that
// relocates or distills cleanly.
func TestModelRangeChecks(t *testing.T) {
	d, s, _, _ := handMade(t,
		func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned) }, // [1]
		func(b *btf.Builder) {
			b.Typedef("t", 1)                    // [2]
			b.Array(2, 1, 4)                     // [3]
			b.Struct("holder", 16, m("x", 3, 0)) // [4]
			b.Ptr(4)                             // [5]
			b.FuncProto(1, p("a", 5))            // [6]
		})
	target, _ := intTarget(t)
	if _, _, err := Relocate(d, s, target); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	base, split := func() (*btf.Spec, *btf.Spec) {
		bb := btf.NewBuilder(binary.LittleEndian, nil)
		i := bb.Int("int", 4, btf.IntSigned) // [1]
		bb.Ptr(i)                            // [2]
		base, err := bb.Spec()
		if err != nil {
			t.Fatal(err)
		}
		sb := btf.NewBuilder(binary.LittleEndian, base)
		sb.Struct("s", 8, m("p", 2, 0)) // [3]
		split, err := sb.Spec()
		if err != nil {
			t.Fatal(err)
		}
		return base, split
	}()
	if _, _, err := Distill(base, split); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	// poke returns a copy of spec with word w of local type i set to v.
	poke := func(spec *btf.Spec, i, w int, v uint32) *btf.Spec {
		c := spec.Copy()
		c.Local(i).W[w] = v
		return c
	}
	// A split copy must stay on its base; a base copy needs its split
	// parsed on it again.
	onBase := func(newBase, split *btf.Spec) *btf.Spec {
		out, err := btf.ParseSplit(split.Marshal(), newBase)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		run  func() error
		sent error
		want string
	}{
		{"relocate: struct member type (embedded walk)", func() error {
			_, _, err := Relocate(d, poke(s, 2, 4, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [4] STRUCT member 0 type refers to type [99], ids end at 7"},
		{"relocate: array elem type (embedded walk)", func() error {
			_, _, err := Relocate(d, poke(s, 1, 3, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [3] ARRAY elem type refers to type [99], ids end at 7"},
		{"relocate: typedef type (embedded walk)", func() error {
			_, _, err := Relocate(d, poke(s, 0, 2, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [2] TYPEDEF type refers to type [99], ids end at 7"},
		{"relocate: array index_type (id rewrite)", func() error {
			_, _, err := Relocate(d, poke(s, 1, 4, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [3] ARRAY index_type refers to type [99], ids end at 7"},
		{"relocate: PTR type (id rewrite)", func() error {
			_, _, err := Relocate(d, poke(s, 3, 2, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [5] PTR type refers to type [99], ids end at 7"},
		{"relocate: FUNC_PROTO return type (id rewrite)", func() error {
			_, _, err := Relocate(d, poke(s, 4, 2, 99), target)
			return err
		}, btf.ErrTypeIDRange, "relocate: type [6] FUNC_PROTO return type refers to type [99], ids end at 7"},
		{"relocate: split name_off", func() error {
			_, _, err := Relocate(d, poke(s, 2, 0, 5000), target)
			return err
		}, btf.ErrStringRange, "relocate: type [4] STRUCT name_off: string offset 5000, strings end at "},
		{"relocate: distilled name_off", func() error {
			d2 := poke(d, 0, 0, 5000)
			_, _, err := Relocate(d2, onBase(d2, s), target)
			return err
		}, btf.ErrStringRange, "relocate: type [1] INT name_off: string offset 5000, strings end at 5"},
		{"relocate: target name_off", func() error {
			_, _, err := Relocate(d, s, poke(target, 1, 0, 5000))
			return err
		}, btf.ErrStringRange, "relocate: type [2] INT name_off: string offset 5000, strings end at 10"},
		{"distill: split member type", func() error {
			_, _, err := Distill(base, poke(split, 0, 4, 99))
			return err
		}, btf.ErrTypeIDRange, "distill: type [3] STRUCT member 0 type refers to type [99], ids end at 4"},
		{"distill: base PTR type", func() error {
			b2 := poke(base, 1, 2, 99)
			_, _, err := Distill(b2, onBase(b2, split))
			return err
		}, btf.ErrTypeIDRange, "distill: type [2] PTR type refers to type [99], ids end at 3"},
		{"distill: split member name_off", func() error {
			_, _, err := Distill(base, poke(split, 0, 3, 5000))
			return err
		}, btf.ErrStringRange, "distill: type [3] STRUCT member 0 name_off: string offset 5000, strings end at "},
		{"distill: base INT name_off", func() error {
			b2 := poke(base, 0, 0, 5000)
			_, _, err := Distill(b2, onBase(b2, split))
			return err
		}, btf.ErrStringRange, "distill: type [1] INT name_off: string offset 5000, strings end at 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.sent) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q..., %v", err, tc.want, tc.sent)
			}
		})
	}
}

// TestUpstreamBugEmptyDistilledBase pins a libbpf bug (1.5.0, the libbpf of
// linux-source-6.12; libbpf master of 2026 still has it): btf__distill_base()
// adds the copied base types to the new split in a second pass that decides
// whether it is filling the base by "start_id == 1". When no base type goes
// into the distilled base, the new split also starts at id 1, so that pass
// believes it fills the base again and copies nothing: the new split keeps
// only the original split types, their split ids shifted, their base ids
// left as they were, pointing past the end or at the wrong split type. The
// model writes the correct split (originals, then the copies), which
// relocates onto the original base as libbpf relocates it. Expected texts
// are worked out from the contract (model) and from the bug (libbpf).
//
// libbpf 1.8 has the same bug (the same second pass, the same test): its
// new split is 1.5's under 1.8's 32-byte header.
func TestUpstreamBugEmptyDistilledBase(t *testing.T) {
	ors := oracles(t)
	for _, tc := range []struct {
		name        string
		base, split func(b *btf.Builder)
		model       string // the model's new split (its distilled base is empty)
		libbpf      string // libbpf's new split; "" = it does not decode
		reloc       string // the model's output relocated onto the original base
	}{
		{"base ids past the end",
			func(b *btf.Builder) { b.Ptr(b.FuncProto(0)) }, // [1] void (void), [2] PTR -> 1
			func(b *btf.Builder) { b.Typedef("cb_t", 2) },  // [3]
			lines("[1] TYPEDEF 'cb_t' type_id=3", "[2] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0", "[3] PTR '(anon)' type_id=2"),
			"",
			lines("[3] TYPEDEF 'cb_t' type_id=5", "[4] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0", "[5] PTR '(anon)' type_id=4")},
		{"base ids naming the wrong split type",
			func(b *btf.Builder) { b.Ptr(0) },                    // [1] void *
			func(b *btf.Builder) { b.Ptr(1); b.Typedef("x", 2) }, // [2] PTR -> 1, [3] TYPEDEF -> 2
			lines("[1] PTR '(anon)' type_id=3", "[2] TYPEDEF 'x' type_id=1", "[3] PTR '(anon)' type_id=0"),
			lines("[1] PTR '(anon)' type_id=1", "[2] TYPEDEF 'x' type_id=1"), // the PTR points at itself
			lines("[2] PTR '(anon)' type_id=4", "[3] TYPEDEF 'x' type_id=2", "[4] PTR '(anon)' type_id=0")},
		{"nothing to copy (both agree)",
			func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned) },
			func(b *btf.Builder) { b.Int("myint", 4, 0); b.Ptr(2) }, // [2], [3] -> 2
			lines("[1] INT 'myint' size=4 bits_offset=0 nr_bits=32 encoding=(none)", "[2] PTR '(anon)' type_id=1"),
			lines("[1] INT 'myint' size=4 bits_offset=0 nr_bits=32 encoding=(none)", "[2] PTR '(anon)' type_id=1"),
			lines("[2] INT 'myint' size=4 bits_offset=0 nr_bits=32 encoding=(none)", "[3] PTR '(anon)' type_id=2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := scenario{base: tc.base, split: tc.split}
			baseRaw, splitRaw := sc.inputs(t)
			base, err := btf.Parse(baseRaw)
			if err != nil {
				t.Fatal(err)
			}
			split, err := btf.ParseSplit(splitRaw, base)
			if err != nil {
				t.Fatal(err)
			}
			d, s2, err := Distill(base, split)
			if err != nil {
				t.Fatal(err)
			}
			if d.NumLocal() != 0 || dump(t, s2) != tc.model {
				t.Fatalf("model: distilled %d types, split:\n%s\nwant an empty distilled base and:\n%s", d.NumLocal(), dump(t, s2), tc.model)
			}
			for _, o := range ors {
				od, os2, err := o.Distill(baseRaw, splitRaw)
				if err != nil {
					t.Fatalf("%s: %v", o.Name(), err)
				}
				ld, err := btf.Parse(od)
				if err != nil || ld.NumLocal() != 0 || ld.Header().HdrLen != uint32(o.Version.HeaderLen()) {
					t.Fatalf("%s distilled base: %v, want an empty one with its %d-byte header", o.Name(), err, o.Version.HeaderLen())
				}
				ls, err := btf.ParseSplit(os2, ld)
				switch {
				case tc.libbpf == "" && !errors.Is(err, btf.ErrTypeIDRange):
					t.Fatalf("%s's new split decodes (%v): the bug is fixed in the oracle? Update the contract and this test", o.Name(), err)
				case tc.libbpf == "":
					t.Logf("%s's new split does not decode: %v", o.Name(), err)
				case err != nil:
					t.Fatalf("%s's new split: %v", o.Name(), err)
				case dump(t, ls) != tc.libbpf:
					t.Fatalf("%s's new split:\n%s\nwant (the bug):\n%s", o.Name(), dump(t, ls), tc.libbpf)
				}
				if tc.libbpf == tc.model && !bytes.Equal(asWritten(t, o, s2.Marshal()), os2) {
					t.Fatalf("%s: same dump, different bytes", o.Name())
				}
			}
			rel, _, err := Relocate(d, s2, base)
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(t, rel); got != tc.reloc {
				t.Fatalf("relocated onto the base:\n%s\nwant:\n%s", got, tc.reloc)
			}
			for _, o := range ors {
				orel, oerr := o.Relocate(d.Marshal(), s2.Marshal(), baseRaw)
				if oerr != nil || !bytes.Equal(rel.Marshal(), orel) {
					t.Fatalf("%s relocating the model's split onto the base: %v, same bytes: %v", o.Name(), oerr, bytes.Equal(rel.Marshal(), orel))
				}
			}
		})
	}
}
