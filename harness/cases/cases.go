package cases

import (
	"encoding/binary"
	"errors"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
)

// Class groups cases by what they are about.
type Class string

const (
	// Negative: a well-formed distilled base that does not fit the target;
	// relocation refuses it.
	Negative Class = "negative"
	// Hostile: malformed sections; the kernel must refuse them, and must
	// not crash.
	Hostile Class = "hostile"
	// Stale: the module's own .BTF and no .BTF.base, the problem distilled
	// bases exist for. Not judged: what happens depends on how far the
	// two vmlinux BTFs drifted.
	Stale Class = "stale"
)

// Input is what a module case is built from.
type Input struct {
	D, S   *btf.Spec // the module's distilled base and the split on it
	Orig   []byte    // the module's .BTF as built (split on the build's vmlinux)
	Target *btf.Spec // vmlinux BTF of the kernel the module is loaded on
	IDs    *BTFIDs   // the module's .BTF_ids (nil: it has none)
}

// BTFIDs is a module's .BTF_ids as its row loads it: ids in the numbering
// of D and S (as resolve_btfids fills them for a module with .BTF.base),
// and its __BTF_ID__ symbols.
type BTFIDs struct {
	Sec   []byte
	Order binary.ByteOrder
	Syms  []load.IDSym
	// EverySet8: the kernel loading it registers every set8 as a kfunc
	// set (before 6.8: load.Set8sAreKfuncSets).
	EverySet8 bool
}

// Made is one built case: the sections to load and what was changed.
type Made struct {
	What        string // what this instance changed, concretely
	Split, Base []byte // .BTF and .BTF.base; Base nil: no .BTF.base
	IDs         []byte // .BTF_ids to write (nil: the module's own, Input.IDs)
}

// ErrNotApplicable: the input cannot give this case (another module may).
var ErrNotApplicable = errors.New("the input cannot give this case")

// KernelRecord is what a known kernel did with a case where that differs
// from the default: refused like the model, without a crash.
type KernelRecord struct {
	Crash   string // the function a recorded oops stops in
	Message string // a line the kernel log holds about it
	// Hang: the load never returns (the guest spins in the kernel; a soft
	// lockup is reported, or the boot times out).
	Hang bool
	// Keeps: the kernel loads the module WITH BTF, which the model refuses
	// (an upstream bug: the BTF it serves is not what any relocation gives).
	Keeps bool
}

// Case is one row of the catalog.
type Case struct {
	Name    string // stable; a report labels it Class:Name
	Class   Class
	Changes string // what it changes, in a sentence
	Build   func(Input) (Made, error)
	// Model is the sentinel the load model's reason wraps (nil for Stale).
	Model error
	// Kernels holds recorded outcomes by "release/arch" or "release".
	Kernels map[string]KernelRecord
	// Alone: the case gets a boot of its own (an upstream kernel may spin
	// on it forever).
	Alone bool
}

// Label is the case's name in reports and file names: Class:Name.
func (c *Case) Label() string { return string(c.Class) + ":" + c.Name }

// Kernel is the record for the kernel release on arch (zero: refused like
// the model, no crash).
func (c *Case) Kernel(release, arch string) KernelRecord {
	if r, ok := c.Kernels[release+"/"+arch]; ok {
		return r
	}
	return c.Kernels[release]
}

// Module returns the module cases in the order they are loaded: the stale
// row, the negatives, then the hostile rows (the one that crashes a known
// kernel last of those sharing a boot).
func Module() []Case {
	return []Case{
		stale(),
		renamed(), embeddedSize(), twoCandidates(),
		otherEndian(), truncated(), forbiddenKind(), typedefInBase(), baseIDOutOfRange(), splitIDOutOfRange(),
		typedefCycle(), arrayCycle(), arrayTypedefCycle(), ptrIDOutOfRange(), btfIDsOutOfRange(),
	}
}

// Select returns the module cases of the given classes, without the Alone
// ones unless alone is set (then only those).
func Select(alone bool, classes ...Class) []Case {
	var out []Case
	for _, c := range Module() {
		for _, k := range classes {
			if c.Class == k && c.Alone == alone {
				out = append(out, c)
			}
		}
	}
	return out
}

// ByLabel finds a module case by its label.
func ByLabel(label string) (Case, bool) {
	for _, c := range Module() {
		if c.Label() == label {
			return c, true
		}
	}
	return Case{}, false
}
