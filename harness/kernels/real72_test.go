package kernels_test

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// TestSid72 pins what Debian sid's Linux 7.2.13 (amd64) ships, as read on
// 2026-12-01 (make testdata-sid fetches it): its vmlinux BTF has the 24-byte
// header and no kind-layout section, 124,639 types sorted by name with the
// anonymous ones first; every module's .BTF has the 24-byte header too and
// none carries a .BTF.base (in-tree modules never get one); its config does
// not set MODULE_ALLOW_BTF_MISMATCH, and it was built with pahole 1.32.
func TestSid72(t *testing.T) {
	k := realdata.Kernel(t, "7.2.13+deb14", "amd64")
	v, raw, err := k.Vmlinux()
	if err != nil {
		t.Fatal(err)
	}
	if h := v.Header(); h.HdrLen != btf.HeaderLen || len(raw) != 5440252 || v.NumLocal() != 124639 {
		t.Errorf("vmlinux BTF: hdr_len %d, %d bytes, %d types", h.HdrLen, len(raw), v.NumLocal())
	}
	// Sorted by name: anonymous types first, then names in byte order.
	prev, named := "", false
	for i := range v.NumLocal() {
		ty := v.Local(i)
		n := v.Name(ty)
		switch {
		case ty.NameOff() == 0 && named:
			t.Fatalf("[%d] anonymous after named types", ty.ID)
		case ty.NameOff() != 0 && n < prev:
			t.Fatalf("[%d] '%s' after '%s': not sorted by name", ty.ID, n, prev)
		case ty.NameOff() != 0:
			prev, named = n, true
		}
	}
	cfg, err := k.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] != "n" || cfg["CONFIG_PAHOLE_VERSION"] != "132" {
		t.Errorf("config: MODULE_ALLOW_BTF_MISMATCH=%q PAHOLE_VERSION=%q", cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"], cfg["CONFIG_PAHOLE_VERSION"])
	}
	mods, err := k.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 4216 {
		t.Errorf("%d modules, want 4216", len(mods))
	}
	step := 8 // BTFRECON_CORPUS=all: every module
	if os.Getenv("BTFRECON_CORPUS") == "all" {
		step = 1
	}
	for i := 0; i < len(mods); i += step {
		m, err := kmod.Open(mods[i])
		if err != nil {
			t.Fatal(err)
		}
		b, ok := m.BTF()
		if !ok {
			t.Fatalf("%s: no .BTF", mods[i])
		}
		if hl := binary.LittleEndian.Uint32(b[4:]); hl != btf.HeaderLen {
			t.Errorf("%s: .BTF hdr_len %d", mods[i], hl)
		}
		if _, ok := m.BTFBase(); ok {
			t.Errorf("%s: an in-tree module with .BTF.base", mods[i])
		}
		if _, err := btf.ParseSplit(b, v); err != nil {
			t.Errorf("%s: .BTF on vmlinux: %v", mods[i], err)
		}
	}
}
