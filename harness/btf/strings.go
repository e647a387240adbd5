package btf

import (
	"hash/maphash"
	"slices"
)

// StringTable is a string section under construction: deduplicated whole
// strings, in the order they were first added, as libbpf grows the string
// set of a BTF it builds.
//
// The index is an open-addressing table of (offset, length) pairs into the
// section itself: no string is held twice and adding one allocates nothing
// but the section's own growth.
type StringTable struct {
	buf   []byte
	slots []strSlot // len a power of two, at most half full; nil when empty
	n     int       // strings in slots
	seed  maphash.Seed
}

// strSlot locates one string: off+1 (0: an empty slot) and its length.
type strSlot struct{ off1, n uint32 }

// NewStringTable returns an empty table. A standalone BTF's table starts
// with "" at offset 0 (withEmpty); a split BTF's does not, since offset 0
// names the base's empty string.
func NewStringTable(withEmpty bool) *StringTable {
	t := &StringTable{seed: maphash.MakeSeed()}
	if withEmpty {
		t.AddBytes(nil)
	}
	return t
}

// Add returns the offset of s in the table (relative to the table's start),
// appending it first if it is not there yet.
func (t *StringTable) Add(s string) uint32 {
	h := maphash.String(t.seed, s)
	if off, ok := find(t, h, s); ok {
		return off
	}
	off := uint32(len(t.buf))
	t.buf = append(t.buf, s...)
	t.buf = append(t.buf, 0)
	t.insert(h, strSlot{off + 1, uint32(len(s))})
	return off
}

// AddBytes is Add for a string held as bytes; it copies b only when the
// string is new to the table.
func (t *StringTable) AddBytes(b []byte) uint32 {
	h := maphash.Bytes(t.seed, b)
	if off, ok := find(t, h, b); ok {
		return off
	}
	off := uint32(len(t.buf))
	t.buf = append(t.buf, b...)
	t.buf = append(t.buf, 0)
	t.insert(h, strSlot{off + 1, uint32(len(b))})
	return off
}

// Lookup returns the offset of s if the table holds it as a whole string.
func (t *StringTable) Lookup(s []byte) (uint32, bool) {
	return find(t, maphash.Bytes(t.seed, s), s)
}

// find looks s up by its hash h; generic so that neither form is copied.
func find[S string | []byte](t *StringTable, h uint64, s S) (uint32, bool) {
	if t.slots == nil {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := t.slots[i]
		if sl.off1 == 0 {
			return 0, false
		}
		if off := sl.off1 - 1; int(sl.n) == len(s) && string(t.buf[off:off+sl.n]) == string(s) {
			return off, true
		}
	}
}

func (t *StringTable) insert(h uint64, sl strSlot) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.place(h, sl)
	t.n++
}

func (t *StringTable) place(h uint64, sl strSlot) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].off1 != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = sl
}

// Grow makes room for about n more strings of bytes bytes in all, so that
// a table whose size is known does not reallocate (and leave its old
// section and index behind) as it goes.
func (t *StringTable) Grow(bytes, n int) {
	t.buf = slices.Grow(t.buf, bytes)
	size := max(16, len(t.slots))
	for 2*(t.n+n) > size {
		size *= 2
	}
	if size > len(t.slots) {
		t.rehash(size)
	}
}

// grow doubles the index, rehashing the strings from the section.
func (t *StringTable) grow() { t.rehash(max(16, 2*len(t.slots))) }

// rehash moves the index to size slots.
func (t *StringTable) rehash(size int) {
	old := t.slots
	t.slots = make([]strSlot, size)
	for _, sl := range old {
		if sl.off1 != 0 {
			off := sl.off1 - 1
			t.place(maphash.Bytes(t.seed, t.buf[off:off+sl.n]), sl)
		}
	}
}

// Len is the table's size in bytes.
func (t *StringTable) Len() int { return len(t.buf) }

// Bytes is the table's contents.
func (t *StringTable) Bytes() []byte { return t.buf }
