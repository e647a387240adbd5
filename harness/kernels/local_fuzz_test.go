package kernels_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/btfrecon/btfrecon/harness/kernels"
)

// FuzzIKConfig: any image either has no IKCONFIG, or gives the bytes
// of a gzip member that sits between the two markers, bounded.
func FuzzIKConfig(f *testing.F) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte("CONFIG_MODULES=y\n# CONFIG_IKCONFIG_PROC is not set\n"))
	w.Close()
	f.Add([]byte("IKCFG_ST" + b.String() + "IKCFG_ED"))
	f.Add([]byte("IKCFG_STIKCFG_ST" + b.String() + "IKCFG_EDIKCFG_ED"))
	f.Add([]byte("IKCFG_ST\x1f\x8b" + "IKCFG_ED"))
	f.Add([]byte("no config"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := kernels.IKConfig(data, "fuzz")
		if err != nil {
			return
		}
		if len(got) > 16<<20 {
			t.Fatalf("%d bytes out of an IKCONFIG blob", len(got))
		}
		if !bytes.Contains(data, []byte("IKCFG_ST")) || !bytes.Contains(data, []byte("IKCFG_ED")) {
			t.Fatal("a config without the markers")
		}
	})
}

// FuzzBannerRelease: a release found is a banner's, as written.
func FuzzBannerRelease(f *testing.F) {
	f.Add([]byte("Linux version 6.12.117+deb12-amd64 (debian-kernel@lists.debian.org) #1"))
	f.Add([]byte("Linux version %s (%s)\x00Linux version 6.1.0 (a@b)"))
	f.Add([]byte("Linux version "))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, ok := kernels.BannerRelease(data)
		if !ok {
			return
		}
		if r == "" || !bytes.Contains(data, []byte("Linux version "+r+" (")) {
			t.Fatalf("release %q is not in a banner", r)
		}
	})
}
