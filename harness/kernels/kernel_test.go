package kernels

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/vmimages"
)

// A kernel of sid's split layout (linux-binary-unsigned: usr/lib/modules/
// <uname>/vmlinuz.unsigned; linux-modules: .../kernel/*.ko.xz; linux-base:
// .../config) opens like a bookworm one: one Get, then Vmlinuz, Uname,
// Config, Modules, VmlinuxBTF. The packages are tiny real .debs, pinned in
// a resolved catalog as Resolve would write it.
func TestOpenSplitLayout(t *testing.T) {
	const uname = "7.2.13+deb14-amd64"
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	blob := b.Bytes()
	// An uncompressed Image: the BTF blob somewhere in the middle.
	image := append(append(bytes.Repeat([]byte{0xcc}, 4096), blob...), bytes.Repeat([]byte{0}, 512)...)
	tmp := t.TempDir()
	debs := map[string][]byte{
		"linux-binary-unsigned-7.2.13+deb14-amd64": buildDebOf(t, tmp, "linux-binary-unsigned-7.2.13+deb14-amd64", "7.2.13-1", map[string]string{
			"usr/lib/modules/" + uname + "/vmlinuz.unsigned": string(image)}),
		"linux-modules-7.2.13+deb14-amd64": buildDebOf(t, tmp, "linux-modules-7.2.13+deb14-amd64", "7.2.13-1", map[string]string{
			"usr/lib/modules/" + uname + "/kernel/fs/9p/9p.ko.xz":                "x",
			"usr/lib/modules/" + uname + "/kernel/net/9p/9pnet_virtio.ko.xz":     "x",
			"usr/lib/modules/" + uname + "/kernel/drivers/gpio/gpio-amdpt.ko.xz": "x"}),
		"linux-base-7.2.13+deb14-amd64": buildDebOf(t, tmp, "linux-base-7.2.13+deb14-amd64", "7.2.13-1", map[string]string{
			"usr/lib/modules/" + uname + "/config":        "# CONFIG_MODULE_ALLOW_BTF_MISMATCH is not set\nCONFIG_PAHOLE_VERSION=132\n",
			"usr/lib/modules/" + uname + "/modules.order": "kernel/fs/9p/9p.ko\n"}),
	}
	root := t.TempDir()
	var entries []vmimages.Entry
	for _, w := range mustRelease(t, "7.2.13+deb14").Packages("amd64")[:3] {
		sum := sha256.Sum256(debs[w.Package])
		entries = append(entries, vmimages.Entry{Release: "7.2.13+deb14", Arch: "amd64", Kind: w.Kind, Package: w.Package, Version: "7.2.13-1",
			SHA256: hex.EncodeToString(sum[:]), Size: int64(len(debs[w.Package]))})
	}
	if err := pinResolved(root, entries); err != nil {
		t.Fatal(err)
	}
	downloads := 0
	f := &Fetcher{CacheDir: root, Download: func(_ context.Context, e vmimages.Entry, dir string) error {
		downloads++
		return os.WriteFile(filepath.Join(dir, e.DebFile()), debs[e.Package], 0o644)
	}, Run: func(context.Context, string, string, ...string) ([]byte, []byte, error) {
		t.Fatal("apt called for a pinned set")
		return nil, nil, nil
	}}
	if _, err := OpenIn(root, "7.2.13+deb14", "amd64"); err == nil || !strings.Contains(err.Error(), "linux-binary-unsigned-7.2.13+deb14-amd64") {
		t.Fatalf("OpenIn before the fetch: %v", err)
	}
	// AptPrepare would consult apt for what needs a download: skip it here
	// by fetching the boot packages directly, as Get does after it.
	for _, e := range entries {
		if _, err := f.Fetch(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	k, err := OpenIn(root, "7.2.13+deb14", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if downloads != 3 || len(k.BootDirs) != 3 || k.Dir != k.BootDirs[0] {
		t.Errorf("%d downloads, boot dirs %q", downloads, k.BootDirs)
	}
	if p, err := k.Vmlinuz(); err != nil || !strings.HasSuffix(p, "/usr/lib/modules/"+uname+"/vmlinuz.unsigned") {
		t.Errorf("Vmlinuz = %s, %v", p, err)
	}
	if u, err := k.Uname(); err != nil || u != uname {
		t.Errorf("Uname = %s, %v", u, err)
	}
	cfg, err := k.Config()
	if err != nil || cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] != "n" || cfg["CONFIG_PAHOLE_VERSION"] != "132" {
		t.Errorf("Config = %v, %v", cfg, err)
	}
	mods, err := k.Modules()
	if err != nil || len(mods) != 3 {
		t.Fatalf("Modules = %q, %v", mods, err)
	}
	if m, err := k.Module("9pnet-virtio"); err != nil || !strings.HasSuffix(m, "/9pnet_virtio.ko.xz") {
		t.Errorf("Module = %s, %v", m, err)
	}
	raw, err := k.VmlinuxBTF()
	if err != nil || !bytes.Equal(raw, blob) {
		t.Fatalf("VmlinuxBTF = %d bytes, %v; want the %d-byte blob", len(raw), err, len(blob))
	}
	if k.BTFPath() != filepath.Join(root, "btf", "7.2.13+deb14-amd64", "vmlinux.btf") {
		t.Errorf("BTFPath = %s", k.BTFPath())
	}
	// The same kernel by Get, once more: nothing is downloaded again.
	if _, err := f.Get(context.Background(), "7.2.13+deb14", "amd64", false); err != nil {
		t.Fatal(err)
	}
	if downloads != 3 {
		t.Errorf("Get of a cached kernel downloaded (%d)", downloads)
	}
	if _, err := f.Get(context.Background(), "7.2.13+deb14", "amd64", true); err == nil || !strings.Contains(err.Error(), "no headers packages pinned: "+ResolvedPath(root)+" has none for it") {
		t.Errorf("Get with headers of a set without: %v", err)
	}
}

func mustRelease(t *testing.T, s string) vmimages.Release {
	t.Helper()
	r, err := vmimages.ParseRelease(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
