package modbuild

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// The model of resolve_btfids (tools/bpf/resolve_btfids/main.c, the same in
// 6.12 and 7.2 for what follows) filling a module's .BTF_ids, written from
// reading it:
//
//   - Every symbol __BTF_ID__<kind>__<name>__<n> in .BTF_ids, kind struct,
//     union, typedef or func, names a 4-byte slot; the slot gets the id of
//     the first type, walking ids from 1 up over the distilled base and the
//     split (the numbering the module's .BTF is in), of that kind and name.
//     A name found nowhere leaves 0 (resolve_btfids warns).
//   - __BTF_ID__set__<name> and __BTF_ID__set8__<name> start a set: its
//     first word gets the set's count (the symbol's size in 4- or 8-byte
//     entries, less the header), then the set's entries are sorted by id,
//     8-byte pairs (id, flags) for set8, the flags moving with their ids.
//   - Slots are filled first (kinds in the order struct, union, typedef,
//     func, sets), then every set is sorted.
//
// 7.2's resolve_btfids also rewrites the BTF of kfuncs flagged
// KF_IMPLICIT_ARGS before distilling (btf2btf); the model does not, and
// refuses such a module (ErrImplicitArgs).

// ErrImplicitArgs: a kfunc with KF_IMPLICIT_ARGS, whose BTF 7.2's
// resolve_btfids rewrites before distilling: not modelled.
var ErrImplicitArgs = errors.New("kfunc flagged KF_IMPLICIT_ARGS: 7.2's resolve_btfids rewrites its BTF (btf2btf), which the model does not do")

// kfImplicitArgs is KF_IMPLICIT_ARGS (1 << 16), 7.2's include/linux/btf.h.
const kfImplicitArgs = 1 << 16

// btfIDKind is what a __BTF_ID__ symbol is.
type btfIDKind int

const (
	symStruct btfIDKind = iota
	symUnion
	symTypedef
	symFunc
	symSet
	symSet8
)

// btfIDSym is a parsed __BTF_ID__ symbol.
type btfIDSym struct {
	kind btfIDKind
	name string // the type name (sym) or the set's name (set, set8)
	off  uint64
	cnt  uint32 // set, set8: entries
}

// parseBTFIDSym reads a symbol's name as resolve_btfids does: the prefixes
// in its order (struct, union, typedef, func, set8, set), and for a type
// the name between "<kind>__" and the last "__".
func parseBTFIDSym(s kmod.BTFIDSym) (btfIDSym, error) {
	rest, _ := strings.CutPrefix(s.Name, "__BTF_ID__")
	for _, p := range []struct {
		prefix string
		kind   btfIDKind
	}{{"struct", symStruct}, {"union", symUnion}, {"typedef", symTypedef}, {"func", symFunc}, {"set8", symSet8}, {"set", symSet}} {
		after, ok := strings.CutPrefix(rest, p.prefix)
		if !ok {
			continue
		}
		switch p.kind {
		case symSet, symSet8:
			name, ok := strings.CutPrefix(after, "__")
			if !ok || name == "" {
				return btfIDSym{}, fmt.Errorf("%s: cannot parse the set's name", s.Name)
			}
			unit := uint64(4)
			if p.kind == symSet8 {
				unit = 8
			}
			if s.Size < unit || s.Size%unit != 0 {
				return btfIDSym{}, fmt.Errorf("%s: size %d is not a whole number of %d-byte entries", s.Name, s.Size, unit)
			}
			return btfIDSym{kind: p.kind, name: name, off: s.Off, cnt: uint32(s.Size/unit - 1)}, nil
		}
		body, ok := strings.CutPrefix(after, "__")
		i := strings.LastIndex(body, "__")
		if !ok || i <= 0 {
			return btfIDSym{}, fmt.Errorf("%s: cannot parse the symbol name", s.Name)
		}
		return btfIDSym{kind: p.kind, name: body[:i], off: s.Off}, nil
	}
	return btfIDSym{}, fmt.Errorf("%s: unsupported prefix", s.Name)
}

// ResolveBTFIDs returns .BTF_ids (sec, as the compiler left it, in byte
// order bo) filled against split (on its distilled base), and the names it
// could not resolve.
func ResolveBTFIDs(sec []byte, bo binary.ByteOrder, syms []kmod.BTFIDSym, split *btf.Spec) ([]byte, []string, error) {
	out := slices.Clone(sec)
	var parsed []btfIDSym
	want := map[btfIDKind]map[string]btf.TypeID{}
	setNames := map[string]bool{}
	for _, s := range syms {
		p, err := parseBTFIDSym(s)
		if err != nil {
			return nil, nil, fmt.Errorf(".BTF_ids: %w", err)
		}
		if p.off+4 > uint64(len(out)) {
			return nil, nil, fmt.Errorf(".BTF_ids: %s at %d: past the section's %d bytes", s.Name, p.off, len(out))
		}
		if p.kind == symSet || p.kind == symSet8 {
			if setNames[p.name] {
				return nil, nil, fmt.Errorf(".BTF_ids: set %q defined twice", p.name)
			}
			setNames[p.name] = true
		} else {
			if want[p.kind] == nil {
				want[p.kind] = map[string]btf.TypeID{}
			}
			want[p.kind][p.name] = 0
		}
		parsed = append(parsed, p)
	}
	// symbols_resolve: the first type of each kind and name, in id order.
	for id := btf.TypeID(1); id < split.NumIDs(); id++ {
		t, err := split.Type(id)
		if err != nil {
			return nil, nil, err
		}
		var k btfIDKind
		switch t.Kind() {
		case btf.KindStruct:
			k = symStruct
		case btf.KindUnion:
			k = symUnion
		case btf.KindTypedef:
			k = symTypedef
		case btf.KindFunc:
			k = symFunc
		default:
			continue
		}
		names := want[k]
		if names == nil {
			continue
		}
		n := split.Name(t)
		if got, ok := names[n]; ok && got == 0 {
			names[n] = id
		}
	}
	var unresolved []string
	// symbols_patch: slots first (struct, union, typedef, func), sets last.
	for _, k := range []btfIDKind{symStruct, symUnion, symTypedef, symFunc, symSet, symSet8} {
		for _, p := range parsed {
			if p.kind != k {
				continue
			}
			v := p.cnt
			if k != symSet && k != symSet8 {
				id := want[k][p.name]
				if id == 0 && !slices.Contains(unresolved, p.name) {
					unresolved = append(unresolved, p.name)
				}
				v = uint32(id)
			}
			bo.PutUint32(out[p.off:], v)
		}
	}
	// sets_patch: sort each set's entries by id.
	for _, p := range parsed {
		if p.kind != symSet && p.kind != symSet8 {
			continue
		}
		unit, hdr := uint64(4), uint64(4)
		if p.kind == symSet8 {
			unit, hdr = 8, 8
		}
		start, end := p.off+hdr, p.off+hdr+uint64(p.cnt)*unit
		if end > uint64(len(out)) {
			return nil, nil, fmt.Errorf(".BTF_ids: set %q of %d entries runs past the section's %d bytes", p.name, p.cnt, len(out))
		}
		entries := make([][]byte, p.cnt)
		for i := range entries {
			at := start + uint64(i)*unit
			entries[i] = slices.Clone(out[at : at+unit])
		}
		// cmp_id: signed int subtraction; ids are far below 2^31.
		slices.SortStableFunc(entries, func(a, b []byte) int {
			return int(int32(bo.Uint32(a))) - int(int32(bo.Uint32(b)))
		})
		for i, e := range entries {
			copy(out[start+uint64(i)*unit:], e)
		}
	}
	return out, unresolved, nil
}

// ImplicitArgs returns the kfuncs that 7.2's resolve_btfids would rewrite
// (btf2btf): FUNCs tagged "bpf_kfunc" (a DECL_TAG on the function itself)
// listed in a set8 whose flags for them have KF_IMPLICIT_ARGS. sec is the
// unresolved .BTF_ids, split the module's split BTF before distillation.
func ImplicitArgs(sec []byte, bo binary.ByteOrder, syms []kmod.BTFIDSym, split *btf.Spec) ([]string, error) {
	var sets []btfIDSym
	funcs := map[string][]uint64{}
	for _, s := range syms {
		p, err := parseBTFIDSym(s)
		if err != nil {
			return nil, fmt.Errorf(".BTF_ids: %w", err)
		}
		switch p.kind {
		case symSet8:
			sets = append(sets, p)
		case symFunc:
			funcs[p.name] = append(funcs[p.name], p.off)
		}
	}
	var out []string
	for i := range split.NumLocal() {
		t := split.Local(i)
		if t.Kind() != btf.KindDeclTag || t.KindFlag() || int32(t.W[3]) != -1 || split.Name(t) != "bpf_kfunc" {
			continue
		}
		f, err := split.Type(btf.TypeID(t.SizeType()))
		if err != nil || f.Kind() != btf.KindFunc {
			continue
		}
		name := split.Name(f)
		for _, off := range funcs[name] {
			for _, s := range sets {
				// find_kfunc_flags: an entry of the set (past its header,
				// through the last one), flags in the word after the id.
				if s.off < off && off <= s.off+uint64(s.cnt)*8 && off+8 <= uint64(len(sec)) {
					if bo.Uint32(sec[off+4:])&kfImplicitArgs != 0 && !slices.Contains(out, name) {
						out = append(out, name)
					}
				}
			}
		}
	}
	return out, nil
}
