package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
)

func TestPackRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	mods := []Module{{"a", "kernel/a.ko.xz", []byte{1, 2, 3}}, {"b", "kernel/x/b.ko.xz", []byte{}}}
	if err := writePack(path, mods); err != nil {
		t.Fatal(err)
	}
	got, err := readPack(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, mods) {
		t.Fatalf("got %+v, want %+v", got, mods)
	}
	// A truncated pack is refused, not half-read.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)-2], 0o644)
	if _, err := readPack(path); !errors.Is(err, ErrBadPack) {
		t.Fatalf("truncated pack: %v", err)
	}
}

func TestRealCorpus(t *testing.T) {
	k := realdata.Kernel(t, "6.12.107", "amd64")
	mods, err := Load(k, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	// Measured: 6.12.107 amd64 ships 4229 .ko.xz, each with .BTF
	// (environment.md says 4230: that is 6.12.117).
	if len(mods) != 4229 {
		t.Fatalf("%d modules with .BTF, want 4229", len(mods))
	}
}
