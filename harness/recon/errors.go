package recon

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Reason says why distillation or relocation refused its input. Each is a
// sentinel usable with errors.Is.
type Reason struct{ text string }

func (r *Reason) Error() string { return r.text }

// The reasons, worded as a kernel developer reads them.
var (
	ErrNotSplit           = &Reason{"input is not split BTF"}
	ErrBadReferencedKind  = &Reason{"split BTF refers to a base type of a kind that cannot be distilled"}
	ErrBadEnumSize        = &Reason{"base enum has a size libbpf cannot add (not 1, 2, 4 or 8)"}
	ErrBadDistilledKind   = &Reason{"distilled base holds a kind relocation does not accept"}
	ErrAnonymousDistilled = &Reason{"distilled base holds an anonymous type"}
	ErrNoCandidate        = &Reason{"no base type with that name (and size)"}
	ErrNoAcceptable       = &Reason{"base types of that name exist but none was accepted"}
	ErrEmbeddedSize       = &Reason{"embedded type's size differs from every base candidate"}
	ErrMultiple           = &Reason{"multiple candidates of the same size"}
	ErrUnmappedName       = &Reason{"split string points into the distilled base but not at a matched type name"}
	ErrCycle              = &Reason{"member type chain loops"}
	ErrVoidCandidate      = &Reason{"target type named by an empty string matches the distilled base's void"}
)

// TypeRef names a type in a report: id, kind, name and size.
type TypeRef struct {
	ID   btf.TypeID
	Kind btf.Kind
	Name string
	Size uint32
}

func (r TypeRef) String() string {
	name := r.Name
	if name == "" {
		name = "(anon)"
	}
	switch r.Kind {
	case btf.KindInt, btf.KindFloat, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64:
		return fmt.Sprintf("[%d] %s '%s' size=%d", r.ID, r.Kind, name, r.Size)
	}
	return fmt.Sprintf("[%d] %s '%s'", r.ID, r.Kind, name)
}

// RefOf names type t of s.
func RefOf(s *btf.Spec, t btf.Type) TypeRef { return ref(s, t) }

func ref(s *btf.Spec, t btf.Type) TypeRef {
	return TypeRef{ID: t.ID, Kind: t.Kind(), Name: s.Name(t), Size: t.SizeType()}
}

// Candidate is a base type that matched a distilled type's key, and what
// became of it.
type Candidate struct {
	TypeRef
	Accepted bool
	Why      string // why it was refused, or what it was accepted as
}

// Error is a refused distillation or relocation.
type Error struct {
	Op     string  // "distill" or "relocate"
	Reason *Reason // one of the Err* sentinels
	Errno  syscall.Errno
	Type   TypeRef // the distilled (or, for distill, base) type at fault
	// Embedded is set when the type is embedded in a split composite,
	// which makes its size part of the match.
	Embedded bool
	// EmbeddedBy names the first split member that embeds it.
	EmbeddedBy string
	Detail     string
	Candidates []Candidate
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s: %s", e.Op, e.Type, e.Reason.text)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return fmt.Sprintf("%s (%s)", msg, errnoName(e.Errno))
}

func (e *Error) Unwrap() error { return e.Reason }

// Explain renders the error for a person: one line for the verdict, then
// the candidates considered, in a form that pastes into a mail.
func (e *Error) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s refused: %s\n", e.Op, e.Reason.text)
	kind := "distilled type"
	if e.Op == "distill" {
		kind = "base type"
	}
	fmt.Fprintf(&b, "  %s: %s", kind, e.Type)
	if e.Embedded {
		b.WriteString(" (embedded in a split struct/union: sizes must match)")
	}
	b.WriteString("\n")
	if e.EmbeddedBy != "" {
		fmt.Fprintf(&b, "  embedded by: %s\n", e.EmbeddedBy)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, "  detail: %s\n", e.Detail)
	}
	if len(e.Candidates) == 0 && e.Op == "relocate" && (e.Reason == ErrNoCandidate) {
		b.WriteString("  candidates: none\n")
	}
	for _, c := range e.Candidates {
		verdict := "refused"
		if c.Accepted {
			verdict = "accepted"
		}
		fmt.Fprintf(&b, "  candidate %s: %s: %s\n", c.TypeRef, verdict, c.Why)
	}
	fmt.Fprintf(&b, "  errno: %s (%d)\n", errnoName(e.Errno), -int(e.Errno))
	return b.String()
}

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.EINVAL:
		return "-EINVAL"
	case syscall.ENOENT:
		return "-ENOENT"
	case syscall.ELOOP:
		return "-ELOOP"
	}
	return fmt.Sprintf("-%d", int(e))
}

// idRange and stringRange are the model's own range checks of an id or
// string field, for a Spec edited in place after decoding: a decoded one
// never fails them (the codec refuses such input, naming the same type and
// field), but the model indexes its maps with these values and must not
// trust them.
func idRange(op string, t btf.Type, f int, end btf.TypeID) error {
	return fmt.Errorf("%s: type [%d] %s %s refers to type [%d], ids end at %d: %w",
		op, t.ID, t.Kind(), btf.FieldName(t.Kind(), f), t.W[f], end, btf.ErrTypeIDRange)
}

func stringRange(op string, t btf.Type, f int, end uint32) error {
	return fmt.Errorf("%s: type [%d] %s %s: string offset %d, strings end at %d: %w",
		op, t.ID, t.Kind(), btf.FieldName(t.Kind(), f), t.W[f], end, btf.ErrStringRange)
}

// Errno returns the negative errno the kernel and libbpf give for err, or
// 0 if err is nil or not a reconciliation verdict.
func Errno(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return -int(e.Errno)
	}
	return 0
}
