package cases

import (
	"bytes"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// The hostile rows: sections no toolchain writes. The kernel must refuse
// each without crashing; where a known kernel crashed or said something
// particular, Kernels records it.

// OopsSite is where 6.12.117 stops on split-id-out-of-range: the
// embedded-marking walk looks the member's type up unchecked and
// dereferences NULL (amd64 and arm64).
const OopsSite = "btf_relocate_map_distilled_base"

// CycleMessage is what 6.12's BTF verifier says about a typedef loop: it
// rejects the split before the relocation's walk could spin.
const CycleMessage = "Max chain length or cycle detected"

func stale() Case {
	return Case{Name: "before", Class: Stale,
		Changes: "the module's own .BTF (made against the build's vmlinux), no .BTF.base",
		Build: func(in Input) (Made, error) {
			if in.Orig == nil {
				return Made{}, fmt.Errorf("before: no original .BTF: %w", ErrNotApplicable)
			}
			return Made{What: "the module's own .BTF, no .BTF.base", Split: bytes.Clone(in.Orig)}, nil
		}}
}

func otherEndian() Case {
	return Case{Name: "other-endian", Class: Hostile, Changes: ".BTF.base in the other byte order",
		Model: load.ErrByteOrder,
		Build: func(in Input) (Made, error) {
			b, err := btf.SwapByteOrder(in.D.Marshal())
			if err != nil {
				return Made{}, err
			}
			return Made{What: ".BTF.base byte-swapped", Split: in.S.Marshal(), Base: b}, nil
		}}
}

func truncated() Case {
	return Case{Name: "truncated", Class: Hostile, Changes: ".BTF.base cut in half",
		Model: btf.ErrTruncated,
		Build: func(in Input) (Made, error) {
			b := in.D.Marshal()
			return Made{What: fmt.Sprintf(".BTF.base cut to %d of %d bytes", len(b)/2, len(b)),
				Split: in.S.Marshal(), Base: bytes.Clone(b[:len(b)/2])}, nil
		}}
}

// retyped turns D's first named struct into a record of kind k (three
// words: name, info, type), pointing at ref.
func retyped(name string, k btf.Kind, ref uint32, model error) Case {
	return Case{Name: name, Class: Hostile, Model: model,
		Changes: fmt.Sprintf("a distilled struct turned into a %s of type id %#x", k, ref),
		Build: func(in Input) (Made, error) {
			i := firstNamedStruct(in.D)
			if i < 0 {
				return Made{}, fmt.Errorf("%s: no named distilled struct: %w", name, ErrNotApplicable)
			}
			d := in.D.WithWord(i, 1, btf.MakeInfo(k, 0, false)).WithWord(i, 2, ref)
			return Made{What: fmt.Sprintf("distilled struct %q turned into a %s of type id %#x", in.D.Name(in.D.Local(i)), k, ref),
				Split: in.S.Marshal(), Base: d.Marshal()}, nil
		}}
}

func forbiddenKind() Case {
	return retyped("forbidden-kind", btf.KindFunc, 0, recon.ErrBadDistilledKind)
}
func typedefInBase() Case {
	return retyped("typedef-in-base", btf.KindTypedef, 0, recon.ErrBadDistilledKind)
}
func baseIDOutOfRange() Case {
	return retyped("id-out-of-range", btf.KindTypedef, 0x7ffff, btf.ErrTypeIDRange)
}

func splitIDOutOfRange() Case {
	c := Case{Name: "split-id-out-of-range", Class: Hostile, Model: btf.ErrTypeIDRange,
		Changes: "a split struct's first member names a type id past the end",
		Kernels: map[string]KernelRecord{
			"6.12.117/amd64":     {Crash: OopsSite},
			"6.12.117/arm64":     {Crash: OopsSite},
			"7.2.13+deb14/amd64": {Crash: OopsSite}, // still in 7.2.13 (2026-12-01)
			"7.2.13+deb14/arm64": {Crash: OopsSite}, // NULL deref at 0x7, pc btf_relocate_map_distilled_base+0x168 (2026-12-02)
		}}
	c.Build = func(in Input) (Made, error) {
		for i := range in.S.NumLocal() {
			t := in.S.Local(i)
			if isComposite(t.Kind()) && t.Vlen() > 0 {
				bad := uint32(in.S.NumIDs()) + 1000
				return Made{What: fmt.Sprintf("split %s [%d] member 0 type id %d (the split ends at %d)", t.Kind(), t.ID, bad, in.S.NumIDs()-1),
					Split: in.S.WithWord(i, 4, bad).Marshal(), Base: in.D.Marshal()}, nil
			}
		}
		return Made{}, fmt.Errorf("split-id-out-of-range: no split struct with members: %w", ErrNotApplicable)
	}
	return c
}

func typedefCycle() Case {
	return Case{Name: "typedef-cycle", Class: Hostile, Alone: true, Model: recon.ErrCycle,
		Changes: "the split gains typedefs A -> B -> A and a struct holding A",
		// 6.12.117 drops the BTF, 7.2.13 fails the load with -ELOOP: both
		// reject the loop before the relocation's walk could spin.
		Kernels: map[string]KernelRecord{"6.12.117": {Message: CycleMessage}, "7.2.13+deb14": {Message: CycleMessage}},
		Build:   buildTypedefCycle}
}

func buildTypedefCycle(in Input) (Made, error) {
	var name uint32 // any valid identifier of the split: borrow a type name
	for i := range in.S.NumLocal() {
		if t := in.S.Local(i); t.NameOff() != 0 && t.Kind() != btf.KindDatasec && t.Kind() != btf.KindDeclTag {
			name = t.NameOff()
			break
		}
	}
	if name == 0 {
		return Made{}, fmt.Errorf("typedef-cycle: the split has no named type to borrow a name from: %w", ErrNotApplicable)
	}
	a := uint32(in.S.NumIDs())
	typedef := btf.MakeInfo(btf.KindTypedef, 0, false)
	split, err := btf.AppendTypes(in.S.Marshal(),
		name, typedef, a+1, // [a] typedef -> [a+1]
		name, typedef, a, // [a+1] typedef -> [a]
		name, btf.MakeInfo(btf.KindStruct, 1, false), 8, name, a, 0) // [a+2] struct { [a] m; }
	if err != nil {
		return Made{}, err
	}
	return Made{What: fmt.Sprintf("split gains typedef [%d] -> [%d] -> [%d] and struct [%d] holding it", a, a+1, a, a+2),
		Split: split, Base: in.D.Marshal()}, nil
}

// appendToSplit is a hostile edit that adds records after the split's last
// type; words gets the first new id.
func appendToSplit(name, changes string, model error, kernels map[string]KernelRecord, words func(in Input, first uint32) ([]uint32, string, error)) Case {
	return Case{Name: name, Class: Hostile, Alone: true, Model: model, Changes: changes, Kernels: kernels,
		Build: func(in Input) (Made, error) {
			w, what, err := words(in, uint32(in.S.NumIDs()))
			if err != nil {
				return Made{}, err
			}
			split, err := btf.AppendTypes(in.S.Marshal(), w...)
			if err != nil {
				return Made{}, err
			}
			return Made{What: what, Split: split, Base: in.D.Marshal()}, nil
		}}
}

// borrowedName is a name offset of the split, any valid identifier.
func borrowedName(in Input) (uint32, error) {
	for i := range in.S.NumLocal() {
		if t := in.S.Local(i); t.NameOff() != 0 && t.Kind() != btf.KindDatasec && t.Kind() != btf.KindDeclTag {
			return t.NameOff(), nil
		}
	}
	return 0, fmt.Errorf("the split has no named type to borrow a name from: %w", ErrNotApplicable)
}

// Recorded on Debian's 6.12.117 and 7.2.13 (amd64, 2026-12-01; arm64,
// 2026-12-02): the array cycles never return from finit_module (6.12.117's
// watchdog reports a soft lockup in btf_type_by_id /
// btf_relocate_map_distilled_base, a panic 33 s into an arm64 boot; 7.2.13
// spins until the boot's timeout), and the out-of-range PTR loads with BTF
// whose id was read from past the end of the id map.
func spins() map[string]KernelRecord {
	return map[string]KernelRecord{"6.12.117": {Hang: true}, "7.2.13+deb14": {Hang: true}}
}

func keeps() map[string]KernelRecord {
	return map[string]KernelRecord{"6.12.117": {Keeps: true}, "7.2.13+deb14": {Keeps: true}}
}

// arrayCycle: an array whose element is itself, held by a struct. The
// kernel's modifier-chain check stops at an ARRAY, so the embedded-marking
// walk of btf_relocate.c never ends.
func arrayCycle() Case {
	return appendToSplit("array-cycle", "the split gains an ARRAY whose element is itself and a struct holding it", recon.ErrCycle, spins(),
		func(in Input, a uint32) ([]uint32, string, error) {
			name, err := borrowedName(in)
			if err != nil {
				return nil, "", err
			}
			return []uint32{
				0, btf.MakeInfo(btf.KindArray, 0, false), 0, a, a, 2, // [a] ARRAY of [a], index [a], 2 elements
				name, btf.MakeInfo(btf.KindStruct, 1, false), 8, name, a, 0, // [a+1] struct { [a] m; }
			}, fmt.Sprintf("split gains ARRAY [%d] of itself and struct [%d] holding it", a, a+1), nil
		})
}

// arrayTypedefCycle: ARRAY -> TYPEDEF -> ARRAY, held by a struct.
func arrayTypedefCycle() Case {
	return appendToSplit("array-typedef-cycle", "the split gains ARRAY -> TYPEDEF -> ARRAY and a struct holding it", recon.ErrCycle, spins(),
		func(in Input, a uint32) ([]uint32, string, error) {
			name, err := borrowedName(in)
			if err != nil {
				return nil, "", err
			}
			return []uint32{
				0, btf.MakeInfo(btf.KindArray, 0, false), 0, a + 1, a, 2, // [a] ARRAY of [a+1]
				name, btf.MakeInfo(btf.KindTypedef, 0, false), a, // [a+1] typedef -> [a]
				name, btf.MakeInfo(btf.KindStruct, 1, false), 8, name, a, 0, // [a+2] struct { [a] m; }
			}, fmt.Sprintf("split gains ARRAY [%d] -> TYPEDEF [%d] -> [%d] and struct [%d] holding it", a, a+1, a, a+2), nil
		})
}

// ptrIDOutOfRange: a split PTR to an id past the end, which the
// embedded-marking walk never looks at and btf_relocate_rewrite_type_id
// then reads the id map with, out of bounds.
func ptrIDOutOfRange() Case {
	return appendToSplit("ptr-id-out-of-range", "the split gains a PTR to a type id past the end", btf.ErrTypeIDRange, keeps(),
		func(in Input, a uint32) ([]uint32, string, error) {
			bad := a + 1000
			return []uint32{0, btf.MakeInfo(btf.KindPtr, 0, false), bad},
				fmt.Sprintf("split gains PTR [%d] to type id %d (the split ends at %d)", a, bad, a), nil
		})
}
