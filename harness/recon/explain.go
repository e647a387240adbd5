package recon

import (
	"fmt"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// ambiguous builds the error for a distilled type accepted by two target
// types.
func (r *relocator) ambiguous(dt btf.Type, prev btf.TypeID, bt btf.Type) error {
	pt, _ := r.target.Type(prev)
	_, whyPrev := acceptCandidate(dt, pt, r.embedded[dt.ID])
	_, why := acceptCandidate(dt, bt, r.embedded[dt.ID])
	return &Error{Op: "relocate", Reason: ErrMultiple, Errno: syscall.EINVAL,
		Type: ref(r.dist, dt), Embedded: r.embedded[dt.ID], EmbeddedBy: r.embeddedBy(dt.ID),
		Candidates: []Candidate{
			{TypeRef: ref(r.target, pt), Accepted: true, Why: whyPrev},
			{TypeRef: ref(r.target, bt), Accepted: true, Why: why + "; already mapped"},
		}}
}

// unmapped builds the error for a distilled type no target type was
// accepted for. It is off the hot path: it scans the target again for
// every type of that name and says why each was not taken.
func (r *relocator) unmapped(id btf.TypeID, composites map[uint32]int) error {
	dt, _ := r.dist.Type(id)
	name := r.dist.Name(dt)
	e := &Error{Op: "relocate", Reason: ErrNoCandidate, Errno: syscall.EINVAL,
		Type: ref(r.dist, dt), Embedded: r.embedded[id], EmbeddedBy: r.embeddedBy(id)}
	sizeRefused := false
	for bid := btf.TypeID(1); bid < r.nb; bid++ {
		bt := r.target.Local(int(bid - 1))
		if bt.NameOff() == 0 || r.target.Name(bt) != name {
			continue
		}
		c := Candidate{TypeRef: ref(r.target, bt)}
		key, ok := TargetKey(r.target, bt, composites[bt.NameOff()])
		switch {
		case !ok:
			c.Why = fmt.Sprintf("not a candidate: %s takes no part in matching", bt.Kind())
		case !key.Admits(name, dt.SizeType()):
			c.Why = fmt.Sprintf("not a candidate: the key is name and size, and size %d differs from %d", bt.SizeType(), dt.SizeType())
		default:
			c.Accepted, c.Why = acceptCandidate(dt, bt, r.embedded[id])
			if r.embedded[id] && isComposite(dt.Kind()) && bt.SizeType() != dt.SizeType() {
				sizeRefused = true
			}
		}
		e.Candidates = append(e.Candidates, c)
	}
	switch {
	case sizeRefused:
		e.Reason = ErrEmbeddedSize
	case r.refused[id]:
		e.Reason = ErrNoAcceptable
	}
	return e
}
