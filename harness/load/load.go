package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Outcome is what a module's BTF becomes on the running kernel.
type Outcome string

const (
	KeepsBTF    Outcome = "btf"          // loaded, /sys/kernel/btf/<m> holds the relocated BTF
	NoBTF       Outcome = "no-btf"       // loaded, BTF dropped (MODULE_ALLOW_BTF_MISMATCH=y)
	LoadRefused Outcome = "load-refused" // finit_module fails (MODULE_ALLOW_BTF_MISMATCH=n)
)

// ErrByteOrder: a BTF section not in the running kernel's byte order.
var ErrByteOrder = errors.New("byte order is not the kernel's")

// Kernel is what the load model needs of the running kernel.
type Kernel struct {
	Vmlinux *btf.Spec        // its vmlinux BTF
	Order   binary.ByteOrder // its byte order
	// AllowMismatch is CONFIG_MODULE_ALLOW_BTF_MISMATCH=y.
	AllowMismatch bool
}

// Prediction is the model's word on one module's sections.
type Prediction struct {
	Outcome Outcome
	// Reason is why the BTF was refused (nil when it is kept): it wraps
	// ErrByteOrder, a harness/btf decoding sentinel or a harness/recon
	// reason, so callers test it with errors.Is.
	Reason error
	// Model is the split as the kernel will serve it (KeepsBTF only); IDMap
	// and ND are the relocation's id map and distilled id count, for the
	// differ (nil and 0 without a .BTF.base).
	Model *btf.Spec
	IDMap []btf.TypeID
	ND    int
}

// Why is the reason on one line ("" when the BTF is kept).
func (p Prediction) Why() string {
	if p.Reason == nil {
		return ""
	}
	return strings.ReplaceAll(p.Reason.Error(), "\n", "; ")
}

// Explain is recon's multi-line explanation of a relocation refusal, or "".
func (p Prediction) Explain() string {
	var re *recon.Error
	if errors.As(p.Reason, &re) {
		return re.Explain()
	}
	return ""
}

// Predict says what k does with a module whose .BTF is split and whose
// .BTF.base is base (nil: the module has none).
func Predict(k Kernel, split, base []byte) Prediction {
	refuse := func(section string, err error) Prediction {
		p := Prediction{Outcome: NoBTF, Reason: fmt.Errorf("%s: %w", section, err)}
		if !k.AllowMismatch {
			p.Outcome = LoadRefused
		}
		return p
	}
	if base == nil {
		s, err := btf.ParseSplit(split, k.Vmlinux)
		if err != nil {
			return refuse(".BTF on vmlinux", err)
		}
		return Prediction{Outcome: KeepsBTF, Model: s}
	}
	for _, sec := range []struct {
		name string
		raw  []byte
	}{{".BTF.base", base}, {".BTF", split}} {
		if o := Order(sec.raw); o != k.Order {
			return refuse(sec.name, fmt.Errorf("%w: %v, the kernel reads %v", ErrByteOrder, o, k.Order))
		}
	}
	d, err := btf.Parse(base)
	if err != nil {
		return refuse(".BTF.base", err)
	}
	s, err := btf.ParseSplit(split, d)
	if err != nil {
		return refuse(".BTF on .BTF.base", err)
	}
	rel, idMap, err := recon.Relocate(d, s, k.Vmlinux)
	if err != nil {
		return refuse("relocation", err)
	}
	return Prediction{Outcome: KeepsBTF, Model: rel, IDMap: idMap, ND: int(d.NumIDs())}
}

// Order is the byte order raw BTF says it is in by its magic (little-endian
// when it says neither: the decoder then reports the bad magic).
func Order(raw []byte) binary.ByteOrder {
	if len(raw) >= 2 && binary.BigEndian.Uint16(raw) == btf.Magic {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
