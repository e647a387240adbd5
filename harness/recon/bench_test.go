package recon

import (
	"os"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
)

// benchInputs returns Debian 6.12.107's and 6.12.117's vmlinux BTF and the
// .BTF of the named 6.12.107 module.
func benchInputs(b *testing.B, module string) (base, target, split *btf.Spec) {
	kb := realdata.Kernel(b, "6.12.107", "amd64")
	kr := realdata.Kernel(b, "6.12.117", "amd64")
	mods, err := corpus.Load(kb, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	parse := func(raw []byte, err error) *btf.Spec {
		if err != nil {
			b.Fatal(err)
		}
		s, err := btf.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	base, target = parse(kb.VmlinuxBTF()), parse(kr.VmlinuxBTF())
	for _, m := range mods {
		if m.Name == module {
			split, err = btf.ParseSplit(m.BTF, base)
			if err != nil {
				b.Fatal(err)
			}
			return base, target, split
		}
	}
	b.Fatalf("no module %s", module)
	return nil, nil, nil
}

// The smallest real module and the largest one (amdgpu, 2.6 MB of .BTF).
var benchModules = []string{"nls_ascii", "amdgpu"}

func BenchmarkDistill(b *testing.B) {
	for _, name := range benchModules {
		b.Run(name, func(b *testing.B) {
			base, _, split := benchInputs(b, name)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Distill(base, split); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRelocate(b *testing.B) {
	for _, name := range benchModules {
		b.Run(name, func(b *testing.B) {
			base, target, split := benchInputs(b, name)
			d, s2, err := Distill(base, split)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Relocate(d, s2, target); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
