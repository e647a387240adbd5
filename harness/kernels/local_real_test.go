package kernels_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// A directory laid out as a user's build of Debian's 6.12.117 (both
// layouts, both arches) opens as the same kernel: the release uname -r
// gives, the vmlinux BTF byte for byte (its size measured on the booted
// kernel's /sys/kernel/btf/vmlinux, docs/environment.md), the modules at
// the same install paths, the same config, one that boots as the guest.
func TestOpenPathRealTree(t *testing.T) {
	for _, tc := range []struct {
		arch    string
		uname   string
		btfSize int
	}{
		{"amd64", "6.12.117+deb12-amd64", 4918287},
		{"arm64", "6.12.117+deb12-arm64", 5597137},
	} {
		for _, layout := range []kernels.TreeLayout{kernels.InTree, kernels.Installed} {
			t.Run(tc.arch+"-"+layout.String(), func(t *testing.T) {
				deb := realdata.Kernel(t, "6.12.117", tc.arch)
				// The 9p modules and the nls charsets: enough to check the
				// layout without inflating all 4230 modules.
				keep := func(rel string) bool {
					return strings.HasPrefix(rel, "kernel/fs/nls/") || strings.HasPrefix(rel, "kernel/fs/9p/") ||
						strings.HasPrefix(rel, "kernel/net/9p/") || strings.HasPrefix(rel, "kernel/fs/netfs/")
				}
				// Its parent need not exist yet (a cold cache's localkernel/).
				dir := filepath.Join(t.TempDir(), "trees", "linux")
				if err := kernels.MakeTree(deb, dir, layout, keep); err != nil {
					t.Fatal(err)
				}
				k, err := kernels.OpenPathIn(t.TempDir(), dir, "")
				if err != nil {
					t.Fatal(err)
				}
				if k.Release != tc.uname || k.Arch != tc.arch || k.Local != dir {
					t.Errorf("opened %q %q local %q, want %q %q %q", k.Release, k.Arch, k.Local, tc.uname, tc.arch, dir)
				}
				if u, _ := k.Uname(); u != tc.uname {
					t.Errorf("Uname %q, want %q", u, tc.uname)
				}
				raw, err := k.VmlinuxBTF()
				if err != nil {
					t.Fatal(err)
				}
				want, err := deb.VmlinuxBTF()
				if err != nil {
					t.Fatal(err)
				}
				if len(raw) != tc.btfSize || !bytes.Equal(raw, want) {
					t.Errorf("vmlinux BTF: %d bytes (sha256 %x), want Debian's %d bytes", len(raw), sha256.Sum256(raw), tc.btfSize)
				}
				if _, _, err := k.Vmlinux(); err != nil {
					t.Error(err)
				}
				got := paths(t, k)
				exp := paths(t, deb)
				for rel := range exp {
					if !keep(rel) {
						delete(exp, rel)
					}
				}
				if layout == kernels.InTree {
					// A build leaves its modules uncompressed.
					exp = maps.Collect(func(yield func(string, bool) bool) {
						for rel := range exp {
							if !yield(strings.TrimSuffix(rel, ".xz"), true) {
								return
							}
						}
					})
				}
				if !maps.Equal(got, exp) {
					t.Errorf("modules: %d, want %d: %v", len(got), len(exp), diffKeys(got, exp))
				}
				// find fs/nls fs/9p net/9p fs/netfs -name '*.ko.xz' | wc -l
				if len(got) != 59 {
					t.Errorf("%d modules, want the package's 59 in fs/nls, fs/9p, net/9p, fs/netfs", len(got))
				}
				cfg, err := k.Config()
				if err != nil {
					t.Fatal(err)
				}
				dcfg, _ := deb.Config()
				if !maps.Equal(cfg, dcfg) {
					t.Error("config differs from the package's")
				}
				if err := k.CheckGuest(); err != nil {
					t.Error(err)
				}
				for _, m := range []string{"netfs", "9pnet", "9pnet_virtio", "9p", "nls-utf8"} {
					if _, err := k.Module(m); err != nil {
						t.Error(err)
					}
				}
				// modules.builtin of the package: zbud is built in, 9p is not.
				if !k.BuiltIn("zbud") || k.BuiltIn("9p") || !deb.BuiltIn("zbud") || deb.BuiltIn("9pnet") {
					t.Error("BuiltIn disagrees with modules.builtin")
				}
				img, err := k.Vmlinuz()
				if err != nil {
					t.Fatal(err)
				}
				if want := map[string]string{"amd64": "bzImage", "arm64": "Image"}[tc.arch]; filepath.Base(img) != want {
					t.Errorf("boot image %s, want %s", img, want)
				}
			})
		}
	}
}

// The Debian kernels themselves have what the guest needs (they boot).
func TestCheckGuestDebian(t *testing.T) {
	for _, tc := range realKernels {
		t.Run(tc.release+"-"+tc.arch, func(t *testing.T) {
			if err := realdata.Kernel(t, tc.release, tc.arch).CheckGuest(); err != nil {
				t.Error(err)
			}
		})
	}
}

func paths(t *testing.T, k *kernels.Kernel) map[string]bool {
	t.Helper()
	mods, err := k.Modules()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range mods {
		out[k.ModulePath(m)] = true
	}
	return out
}

func diffKeys(a, b map[string]bool) string {
	var only []string
	for k := range a {
		if !b[k] {
			only = append(only, "+"+k)
		}
	}
	for k := range b {
		if !a[k] {
			only = append(only, "-"+k)
		}
	}
	slices.Sort(only)
	if len(only) > 5 {
		only = append(only[:5], fmt.Sprintf("... %d more", len(only)-5))
	}
	return strings.Join(only, " ")
}
