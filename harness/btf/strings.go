package btf

// StringTable is a string section under construction: deduplicated whole
// strings, in the order they were first added, as libbpf grows the string
// set of a BTF it builds.
type StringTable struct {
	buf []byte
	idx map[string]uint32
}

// NewStringTable returns an empty table. A standalone BTF's table starts
// with "" at offset 0 (withEmpty); a split BTF's does not, since offset 0
// names the base's empty string.
func NewStringTable(withEmpty bool) *StringTable {
	t := &StringTable{idx: make(map[string]uint32)}
	if withEmpty {
		t.buf = append(t.buf, 0)
		t.idx[""] = 0
	}
	return t
}

// Add returns the offset of s in the table (relative to the table's start),
// appending it first if it is not there yet.
func (t *StringTable) Add(s string) uint32 {
	if off, ok := t.idx[s]; ok {
		return off
	}
	off := uint32(len(t.buf))
	t.buf = append(t.buf, s...)
	t.buf = append(t.buf, 0)
	t.idx[s] = off
	return off
}

// AddBytes is Add for a string held as bytes; it copies b only when the
// string is new to the table.
func (t *StringTable) AddBytes(b []byte) uint32 {
	if off, ok := t.idx[string(b)]; ok {
		return off
	}
	return t.Add(string(b))
}

// Lookup returns the offset of s if the table holds it as a whole string.
func (t *StringTable) Lookup(s []byte) (uint32, bool) {
	off, ok := t.idx[string(s)]
	return off, ok
}

// Len is the table's size in bytes.
func (t *StringTable) Len() int { return len(t.buf) }

// Bytes is the table's contents.
func (t *StringTable) Bytes() []byte { return t.buf }
