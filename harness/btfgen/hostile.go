package btfgen

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Hostile edits of a distilled base or a new split: inputs no distiller
// writes, which relocation must refuse (or take) exactly as the kernel
// does. The result always decodes (an edit that would not is drawn again),
// so every implementation gets to judge it.

// hostile makes one edit of the distilled base or of the new split.
func hostile(r *rand.Rand, d, s *btf.Spec) (dRaw, sRaw []byte, what string) {
	dRaw, sRaw = d.Marshal(), s.Marshal()
	onBase := r.IntN(2) == 0
	for range 10 {
		if onBase {
			raw, w := hostileDistilled(r, d)
			if w == "" {
				continue
			}
			if nd, err := btf.Parse(raw); err == nil {
				if _, err := btf.ParseSplit(sRaw, nd); err == nil {
					return raw, sRaw, w
				}
			}
		} else {
			raw, w := hostileSplit(r, d, s)
			if w == "" {
				continue
			}
			if _, err := btf.ParseSplit(raw, d); err == nil {
				return dRaw, raw, w
			}
		}
	}
	return dRaw, sRaw, ""
}

// hostileDistilled edits one distilled type: a kind no distiller makes
// (keeping the record's length), no name, another size, or kind_flag. It
// says what it did, "" for no edit.
func hostileDistilled(r *rand.Rand, d *btf.Spec) ([]byte, string) {
	c := d.Copy()
	if c.NumLocal() == 0 {
		return nil, ""
	}
	t := c.Local(r.IntN(c.NumLocal()))
	old := append([]uint32(nil), t.W...)
	what := fmt.Sprintf("distilled [%d] %s: ", t.ID, t.Kind())
	switch r.IntN(4) {
	case 0:
		switch {
		case t.Kind() == btf.KindEnum && t.Vlen() == 0:
			t.W[1] = btf.MakeInfo(btf.KindEnum64, 0, false)
			what += "kind ENUM64"
		case len(t.W) == 4:
			t.W[1] = btf.MakeInfo(btf.KindVar, 0, false)
			t.W[2], t.W[3] = 0, 0
			what += "kind VAR"
		case len(t.W) == 3:
			t.W[1] = btf.MakeInfo(btf.KindTypedef, 0, false)
			t.W[2] = 0
			what += "kind TYPEDEF"
		default:
			return nil, ""
		}
	case 1:
		t.W[0] = 0
		what += "anonymous"
	case 2:
		t.W[2] += 4
		what += "size/type word +4"
	default:
		t.W[1] ^= 1 << 31
		what += "kind_flag flipped"
	}
	if slices.Equal(old, t.W) {
		return nil, ""
	}
	return c.Marshal(), what
}

// hostileSplit points one string field of a new split type into the
// middle of a distilled name, or at a distilled name from a member. It
// says what it did, "" for no edit.
func hostileSplit(r *rand.Rand, d, s *btf.Spec) ([]byte, string) {
	c := s.Copy()
	if c.NumLocal() == 0 || d.StrEnd() < 3 {
		return nil, ""
	}
	t := c.Local(r.IntN(c.NumLocal()))
	fields := t.StringFields(nil)
	f := fields[r.IntN(len(fields))]
	old := t.W[f]
	if t.W[f] = 1 + uint32(r.IntN(int(d.StrEnd()-2))); t.W[f] == old {
		return nil, ""
	}
	return c.Marshal(), fmt.Sprintf("split [%d] %s %s: string offset %d", t.ID, t.Kind(), btf.FieldName(t.Kind(), f), t.W[f])
}
