package recon

import "github.com/btfrecon/btfrecon/harness/btf"

// Key is a match key of relocation: a name, and a size when the key has one.
//
// The contract's rule (Relocate step 4): a named target INT, FLOAT, ENUM or
// ENUM64 has name and size; a FWD the name alone; a STRUCT or UNION the name
// alone, or name and size when the target holds more than one STRUCT/UNION
// with that name offset; every other kind, and an anonymous type, has no key
// and takes no part in matching. Size is the 31-bit value keys compare
// (keySize), 0 when Sized is false, so equal keys are equal values.
type Key struct {
	Name  string
	Size  uint32
	Sized bool
}

// TargetKey is the match key of target type t; composites is how many
// STRUCT/UNION types of the target share t's name offset. ok is false when t
// takes no part in matching (anonymous, or a kind with no key).
func TargetKey(target *btf.Spec, t btf.Type, composites int) (k Key, ok bool) {
	if !keyed(t) {
		return Key{}, false
	}
	return keyOf(target.Name(t), t, composites), true
}

// Admits reports whether a distilled type of this name and size has key k
// (sizes compared as keys compare them).
func (k Key) Admits(name string, size uint32) bool {
	return name == k.Name && (!k.Sized || keySize(size) == k.Size)
}

// keyed reports whether target type t has a match key: it is named (a
// non-zero name offset, even one that names "") and of a keyed kind.
func keyed(t btf.Type) bool {
	if t.NameOff() == 0 {
		return false
	}
	switch t.Kind() {
	case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64, btf.KindFwd, btf.KindStruct, btf.KindUnion:
		return true
	}
	return false
}

// keyOf is TargetKey for a keyed type whose name the caller holds already:
// matchTypes has it from the distilled side and must not copy it again for
// every target type.
func keyOf(name string, t btf.Type, composites int) Key {
	k := Key{Name: name}
	switch t.Kind() {
	case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64:
		k.Sized = true
	case btf.KindStruct, btf.KindUnion:
		k.Sized = composites > 1
	}
	if k.Sized {
		k.Size = keySize(t.SizeType())
	}
	return k
}

// keySize is a size as matching compares it: upstream keeps it in a
// 31-bit field.
func keySize(size uint32) uint32 { return size & 0x7fffffff }
