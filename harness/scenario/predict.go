package scenario

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

// Prediction is the model's word on one module file.
type Prediction struct {
	Outcome Outcome
	// Why is the model's reason for a refusal, one line.
	Why string
	// Explain is recon's multi-line explanation, when it has one.
	Explain string
	// Model is the relocated split (KeepsBTF only), IDMap and ND for the differ.
	Model *btf.Spec
	IDMap []btf.TypeID
	ND    int
}

// Predict says what a kernel whose vmlinux BTF is target does with a
// module whose .BTF is split and .BTF.base is base (nil: no .BTF.base), the
// way 6.12 reads them: a foreign byte order or a malformed blob is refused
// at parse time; with a base, the split is relocated (recon.Relocate);
// without one, the split is parsed directly on vmlinux (our codec's strict
// decoding standing in for the kernel's metadata checks). allowMismatch is
// CONFIG_MODULE_ALLOW_BTF_MISMATCH of the running kernel; native its byte
// order.
func Predict(split, base []byte, target *btf.Spec, native binary.ByteOrder, allowMismatch bool) Prediction {
	refuse := func(why string, err error) Prediction {
		p := Prediction{Outcome: NoBTF, Why: why}
		if !allowMismatch {
			p.Outcome = LoadRefused
		}
		var re *recon.Error
		if errors.As(err, &re) {
			p.Explain = re.Explain()
		}
		return p
	}
	if base == nil {
		s, err := btf.ParseSplit(split, target)
		if err != nil {
			return refuse(".BTF on vmlinux: "+err.Error(), err)
		}
		return Prediction{Outcome: KeepsBTF, Why: "no .BTF.base: parsed directly on vmlinux, no relocation", Model: s}
	}
	if o := order(base); o != native {
		return refuse(fmt.Sprintf(".BTF.base: byte order %v, the kernel reads only %v", o, native), nil)
	}
	if o := order(split); o != native {
		return refuse(fmt.Sprintf(".BTF: byte order %v, the kernel reads only %v", o, native), nil)
	}
	d, err := btf.Parse(base)
	if err != nil {
		return refuse(".BTF.base: "+err.Error(), err)
	}
	s, err := btf.ParseSplit(split, d)
	if err != nil {
		return refuse(".BTF on .BTF.base: "+err.Error(), err)
	}
	rel, idMap, err := recon.Relocate(d, s, target)
	if err != nil {
		return refuse(oneLine(err.Error()), err)
	}
	return Prediction{Outcome: KeepsBTF, Model: rel, IDMap: idMap, ND: int(d.NumIDs())}
}

func order(b []byte) binary.ByteOrder {
	if len(b) >= 2 && binary.BigEndian.Uint16(b) == btf.Magic {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
