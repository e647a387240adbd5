package btf

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bpftoolDump runs Debian's bpftool (an independent implementation of the
// text form Dump copies) on a raw BTF file.
func bpftoolDump(t testing.TB, file string, base string) string {
	t.Helper()
	path, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed (apt-get install bpftool; .ci/run does)")
	}
	args := []string{"btf", "dump", "file", file}
	if base != "" {
		args = append(args, "-B", base)
	}
	out, err := exec.Command(path, append(args, "format", "raw")...).CombinedOutput()
	if err != nil {
		t.Fatalf("bpftool: %v\n%s", err, out)
	}
	return string(out)
}

// firstLineDiff says where two dumps first differ.
func firstLineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + la[i] + "\n vs  " + lb[i]
		}
	}
	return "lengths differ"
}

// TestDumpMatchesBpftool: every kind, in both byte orders, dumps as
// bpftool prints it.
func TestDumpMatchesBpftool(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw := allKinds(bo).Bytes()
		file := filepath.Join(t.TempDir(), "all.btf")
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		want := bpftoolDump(t, file, "")
		var got bytes.Buffer
		if err := mustParse(t, raw).Dump(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Fatalf("%v: dump differs from bpftool's: %s", bo, firstLineDiff(got.String(), want))
		}
	}
}
