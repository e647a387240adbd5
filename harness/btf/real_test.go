package btf_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kernels"
	cbtf "github.com/cilium/ebpf/btf"
)

var realKernels = []struct{ release, arch string }{
	{"6.12.107", "amd64"}, {"6.12.117", "amd64"},
}

// TestRealRoundTrip decodes and re-encodes both Debian vmlinux BTFs and
// every module's .BTF (split on its own vmlinux): all byte-identical.
func TestRealRoundTrip(t *testing.T) {
	for _, rk := range realKernels {
		t.Run(rk.release+"-"+rk.arch, func(t *testing.T) {
			k, raw, base := realVmlinux(t, rk.release, rk.arch)
			if !bytes.Equal(base.Marshal(), raw) {
				t.Fatal("vmlinux BTF round trip differs")
			}
			mods, err := corpus.Load(k, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mods {
				s, err := btf.ParseSplit(m.BTF, base)
				if err != nil {
					t.Fatalf("%s: %v", m.Path, err)
				}
				if !bytes.Equal(s.Marshal(), m.BTF) {
					t.Fatalf("%s: round trip differs", m.Path)
				}
			}
			t.Logf("%s: vmlinux (%d types, %d bytes) and %d modules round-trip byte-identically",
				k, base.NumLocal(), len(raw), len(mods))
		})
	}
}

// TestRealCilium holds our decoding of real vmlinux and module BTF against
// cilium/ebpf's: kind, name, size and members of every type, per id.
func TestRealCilium(t *testing.T) {
	k, raw, base := realVmlinux(t, "6.12.117", "amd64")
	cbase, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	n := btf.CrossCheck(t, base, cbase)
	mods, err := corpus.Load(k, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(mods); i += 50 {
		s, err := btf.ParseSplit(mods[i].BTF, base)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := cbtf.LoadSplitSpecFromReader(bytes.NewReader(mods[i].BTF), cbase)
		if err != nil {
			t.Fatal(err)
		}
		n += btf.CrossCheck(t, s, cs)
	}
	t.Logf("%d types agree with cilium/ebpf", n)
}

// BenchmarkParseVmlinux decodes Debian 6.12.117's vmlinux BTF.
func BenchmarkParseVmlinux(b *testing.B) {
	_, raw, _ := realVmlinux(b, "6.12.117", "amd64")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := btf.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalVmlinux encodes it back.
func BenchmarkMarshalVmlinux(b *testing.B) {
	_, raw, s := realVmlinux(b, "6.12.117", "amd64")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		s.Marshal()
	}
}

// BenchmarkWriteToVmlinux encodes it into a writer, as check compares it.
func BenchmarkWriteToVmlinux(b *testing.B) {
	_, raw, s := realVmlinux(b, "6.12.117", "amd64")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealDumpMatchesBpftool: Debian's vmlinux BTF and a large module dump
// exactly as bpftool prints them.
func TestRealDumpMatchesBpftool(t *testing.T) {
	k, raw, base := realVmlinux(t, "6.12.117", "amd64")
	if _, err := exec.LookPath("bpftool"); err != nil {
		t.Skip("bpftool not installed (apt-get install bpftool; .ci/run does)")
	}
	dir := t.TempDir()
	basePath := filepath.Join(dir, "vmlinux.btf")
	os.WriteFile(basePath, raw, 0o644)
	mods, err := corpus.Load(k, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var btrfs []byte
	for _, m := range mods {
		if m.Name == "btrfs" {
			btrfs = m.BTF
		}
	}
	modPath := filepath.Join(dir, "btrfs.btf")
	os.WriteFile(modPath, btrfs, 0o644)
	split, err := btf.ParseSplit(btrfs, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec       *btf.Spec
		file, base string
	}{{base, basePath, ""}, {split, modPath, basePath}} {
		var got bytes.Buffer
		tc.spec.Dump(&got)
		out, err := exec.Command("bpftool", append([]string{"btf", "dump", "file", tc.file},
			append(baseArgs(tc.base), "format", "raw")...)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), out) {
			t.Fatalf("%s: dump differs from bpftool's", tc.file)
		}
		t.Logf("%s: %d lines identical to bpftool's", filepath.Base(tc.file), bytes.Count(out, []byte("\n")))
	}
}

func baseArgs(base string) []string {
	if base == "" {
		return nil
	}
	return []string{"-B", base}
}

// realVmlinux returns a cached Debian kernel, its vmlinux BTF and its
// decoding (the test skips when the data is not cached).
func realVmlinux(tb testing.TB, release, arch string) (*kernels.Kernel, []byte, *btf.Spec) {
	tb.Helper()
	k := realdata.Kernel(tb, release, arch)
	raw, err := k.VmlinuxBTF()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := btf.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return k, raw, s
}
