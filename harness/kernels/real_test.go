package kernels_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// Measured on the catalog's packages (2026-11-29); the amd64 sizes equal
// /sys/kernel/btf/vmlinux of the booted kernels (docs/environment.md).
var realKernels = []struct {
	release, arch string
	btfSize       int
	modules       int
}{
	{"6.12.107", "amd64", 4925342, 4229},
	{"6.12.117", "amd64", 4918287, 4230},
	{"6.12.107", "arm64", 5599940, 4350},
	{"6.12.117", "arm64", 5597137, 4351},
}

func TestRealKernels(t *testing.T) {
	for _, tc := range realKernels {
		t.Run(tc.release+"-"+tc.arch, func(t *testing.T) {
			k := realdata.Kernel(t, tc.release, tc.arch)
			btf, err := k.VmlinuxBTF()
			if err != nil {
				t.Fatal(err)
			}
			if len(btf) != tc.btfSize {
				t.Errorf("vmlinux BTF: %d bytes, want %d", len(btf), tc.btfSize)
			}
			mods, err := k.Modules()
			if err != nil {
				t.Fatal(err)
			}
			if len(mods) != tc.modules {
				t.Errorf("%d modules, want %d", len(mods), tc.modules)
			}
			if _, err := k.Module("9pnet_virtio"); err != nil {
				t.Error(err)
			}
			cfg, err := k.Config()
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				"CONFIG_DEBUG_INFO_BTF_MODULES":    "y",
				"CONFIG_MODULE_ALLOW_BTF_MISMATCH": "y",
				"CONFIG_MODVERSIONS":               "y",
				"CONFIG_PAHOLE_VERSION":            "124",
				"CONFIG_9P_FS":                     "m",
			} {
				if cfg[key] != want {
					t.Errorf("%s = %q, want %q", key, cfg[key], want)
				}
			}
		})
	}
}

// Our vmlinuz decoding must give exactly the bytes of the cached BTF file
// (which for amd64 came from the headers' vmlinux ELF).
func TestRealVmlinuzBTF(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses four kernels (~1 s)")
	}
	for _, tc := range realKernels {
		t.Run(tc.release+"-"+tc.arch, func(t *testing.T) {
			k := realdata.Kernel(t, tc.release, tc.arch)
			fromVmlinuz, err := k.VmlinuzBTF()
			if err != nil {
				t.Fatal(err)
			}
			if len(fromVmlinuz) != tc.btfSize {
				t.Errorf("vmlinuz BTF: %d bytes, want %d", len(fromVmlinuz), tc.btfSize)
			}
			cached, err := k.VmlinuxBTF()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromVmlinuz, cached) {
				t.Errorf("vmlinuz BTF (%s) != cached BTF (%s)", digest(fromVmlinuz), digest(cached))
			}
		})
	}
}

func TestRealHeadersBTFMatchesVmlinuz(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses two kernels")
	}
	for _, release := range []string{"6.12.107", "6.12.117"} {
		t.Run(release, func(t *testing.T) {
			k := realdata.Headers(t, release, "amd64")
			h, err := k.HeadersBTF()
			if err != nil {
				t.Fatal(err)
			}
			v, err := k.VmlinuzBTF()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(h, v) {
				t.Errorf("headers vmlinux .BTF (%s) != vmlinuz-derived (%s)", digest(h), digest(v))
			}
		})
	}
}

func digest(b []byte) string { return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b)) }

// Different releases must give different BTF: guards against the cache
// handing one kernel's file to another.
func TestRealReleasesDiffer(t *testing.T) {
	a := realdata.VmlinuxBTF(t, "6.12.107", "amd64")
	b := realdata.VmlinuxBTF(t, "6.12.117", "amd64")
	if bytes.Equal(a, b) {
		t.Fatal("6.12.107 and 6.12.117 amd64 BTF are identical")
	}
	if _, err := kernels.Open("6.12.999", "amd64"); err == nil {
		t.Fatal("Open of a kernel not in the catalog succeeded")
	}
}

// The merged kbuild tree must build a module, with split BTF, out of the box.
func TestRealBuildDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module (3–11 s)")
	}
	for _, tool := range []string{"make", "gcc-12", "pahole"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	k := realdata.Headers(t, "6.12.117", "amd64")
	dir, err := k.BuildDir()
	if err != nil {
		t.Fatal(err)
	}
	m := t.TempDir()
	src := "#include <linux/module.h>\nstatic int __init h_init(void) { return 0; }\nmodule_init(h_init);\nMODULE_LICENSE(\"GPL\");\n"
	if err := os.WriteFile(filepath.Join(m, "hello.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m, "Kbuild"), []byte("obj-m := hello.o\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("make", "-C", dir, "M="+m, "modules").CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	f, err := elf.Open(filepath.Join(m, "hello.ko"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".BTF") == nil {
		t.Error("hello.ko has no .BTF")
	}
}
