package oracle

import (
	"bytes"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// TestModelKeepsLayoutSection: Linux 7.2's kind-layout section (hdr_len 32,
// layout_off/layout_len), in the split, the distilled base and the target:
// our codec decodes it, and the model's relocation keeps the split's section
// where it was, byte for byte what libbpf writes (1.8; 1.5 ignores the
// header fields and keeps the bytes as well), in both byte orders.
func TestModelKeepsLayoutSection(t *testing.T) {
	each(t, func(t *testing.T, o *Oracle) {
		for _, bo := range []order{le, be} {
			lay := layoutSec(bo)
			d, s, tg := withLayout(bo, distilled0(bo), lay), withLayout(bo, newSplit0(bo), lay), withLayout(bo, target1(bo, 8), lay)
			if bo == be && o.Version == V15 {
				continue // 1.5 refuses a big-endian hdr_len other than 24 (TestVersionsBigEndianHeaderLen)
			}
			want, err := o.Relocate(d, s, tg)
			if err != nil {
				t.Fatalf("%v: libbpf: %v", bo, err)
			}
			dd, err := btf.Parse(d)
			if err != nil {
				t.Fatalf("%v: distilled base with a layout section: %v", bo, err)
			}
			ss, err := btf.ParseSplit(s, dd)
			if err != nil {
				t.Fatalf("%v: split with a layout section: %v", bo, err)
			}
			tt, err := btf.Parse(tg)
			if err != nil {
				t.Fatalf("%v: target with a layout section: %v", bo, err)
			}
			if !bytes.Equal(ss.Layout(), lay) {
				t.Fatalf("%v: split layout %x, want %x", bo, ss.Layout(), lay)
			}
			rel, _, err := recon.Relocate(dd, ss, tt)
			if err != nil {
				t.Fatalf("%v: model: %v", bo, err)
			}
			if got := rel.Marshal(); !bytes.Equal(got, want) {
				t.Fatalf("%v: model %x\nlibbpf %s %x", bo, got, o.Version, want)
			}
		}
	})
}
