package kmod

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Nothing may panic; whatever
// Parse accepts, WithSections must either refuse with a sentinel error or
// produce an image that parses back with the new sections and every other
// section's bytes unchanged.
func FuzzParse(f *testing.F) {
	for _, file := range testdataFiles {
		f.Add(readTestdata(f, file))
	}
	f.Add(readTestdata(f, "tiny-x86_64.ko")[:200])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add(append(bytes.Clone(xzMagic), 0, 0))
	f.Add(append(bytes.Clone(zstdMagic), 0, 0))
	f.Add(append(bytes.Clone(gzipMagic), 8, 0))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.ko")
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		btf, hasBTF := m.BTF()
		if !hasBTF {
			btf = []byte("new .BTF")
		}
		base := []byte("new .BTF.base")
		out, err := m.WithSections(append(btf, 1), base)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("WithSections: %v", err)
			}
			return
		}
		back, err := Parse(out, "out.ko")
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if got, _ := back.BTF(); !bytes.Equal(got, append(btf, 1)) {
			t.Fatal(".BTF not read back")
		}
		if got, _ := back.BTFBase(); !bytes.Equal(got, base) {
			t.Fatal(".BTF.base not read back")
		}
		for i := range m.layout.sections {
			if i == m.btf || i == m.base || i == m.layout.shstrndx {
				continue
			}
			if !bytes.Equal(m.layout.contents(m.image, i), back.layout.contents(back.image, i)) {
				t.Fatalf("section %d (%s) changed", i, m.layout.names[i])
			}
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrNotELF, ErrTruncated, ErrMalformed, ErrXZ, ErrZstd, ErrGzip, ErrTooLarge, ErrNoBTF, ErrUnsupported} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzScaledLoads feeds arbitrary bytes to ScaledLoads: nothing may panic,
// every error wraps a sentinel, and every load found lies in a section the
// image has.
func FuzzScaledLoads(f *testing.F) {
	f.Add(readTestdata(f, "btfrecon_test-6.1-arm64-unaligned.ko"))
	f.Add(readTestdata(f, "btfrecon_test-6.1-arm64-aligned.ko"))
	f.Add(readTestdata(f, "tiny-x86_64.ko"))
	f.Fuzz(func(t *testing.T, data []byte) {
		loads, err := ScaledLoads(data, ".BTF_ids")
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		for _, l := range loads {
			if l.Size == 0 || l.Section == "" {
				t.Fatalf("load without a size or section: %+v", l)
			}
		}
	})
}
