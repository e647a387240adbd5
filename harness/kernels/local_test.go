package kernels_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// fakeConfig has every option the guest needs, the 9p pieces as modules.
const fakeConfig = `CONFIG_DEBUG_INFO_BTF=y
CONFIG_DEBUG_INFO_BTF_MODULES=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_BPF_SYSCALL=y
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_NETFS_SUPPORT=m
CONFIG_NET_9P=m
CONFIG_NET_9P_VIRTIO=m
CONFIG_9P_FS=m
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_ACPI=y
CONFIG_PCI_HOST_GENERIC=y
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
`

// ninePOrder is a build's modules.order with the 9p modules and one more.
const ninePOrder = "fs/netfs/netfs.ko\nnet/9p/9pnet.ko\nnet/9p/9pnet_virtio.ko\nfs/9p/9p.ko\nfs/nls/nls_koi8-r.ko\n"

func tinyBTF() []byte {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	return b.Bytes()
}

// tree writes files (path -> content) under a fresh directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "linux")
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildTree is a build directory after make and make modules.
func buildTree(m elf.Machine, extra map[string]string) map[string]string {
	img := map[elf.Machine]string{elf.EM_X86_64: "arch/x86/boot/bzImage", elf.EM_AARCH64: "arch/arm64/boot/Image"}[m]
	f := map[string]string{
		"vmlinux":                       string(kernels.BTFELF(m, tinyBTF())),
		img:                             "boot image",
		".config":                       fakeConfig,
		"include/config/kernel.release": "6.13.0-rc1-dirty\n",
		"modules.order":                 ninePOrder,
	}
	for _, l := range strings.Fields(ninePOrder) {
		f[l] = "module"
	}
	for k, v := range extra {
		if v == "" {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

func gz(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestOpenPath(t *testing.T) {
	const rel = "6.13.0-rc1-dirty"
	inst := func(p string) string { return "lib/modules/" + rel + "/kernel/" + p }
	installed := map[string]string{
		"vmlinux":                               string(kernels.BTFELF(elf.EM_X86_64, tinyBTF())),
		"bzImage":                               "boot image",
		"boot/config-" + rel:                    fakeConfig,
		inst("fs/netfs/netfs.ko.xz"):            "m",
		inst("net/9p/9pnet.ko.zst"):             "m",
		inst("net/9p/9pnet_virtio.ko"):          "m",
		inst("fs/9p/9p.ko.gz"):                  "m",
		inst("fs/nls/nls_koi8-r.ko"):            "m",
		"lib/modules/" + rel + "/modules.order": "kernel/fs/9p/9p.ko\n",
	}
	bannerELF := string(kernels.BTFELF(elf.EM_X86_64, tinyBTF())) + "\x00%s version %s\x00Linux version 6.1.0-test+ (me@host) (gcc 12) #1 SMP\x00"
	ikELF := string(kernels.BTFELF(elf.EM_AARCH64, tinyBTF())) + "IKCFG_ST" + gz(t, fakeConfig) + "IKCFG_ED"
	for _, tc := range []struct {
		name     string
		files    map[string]string
		arch     string
		release  string
		wantArch string
		image    string
		config   string // relative to the tree; "" when IKCONFIG
		modules  []string
		buildDir bool
	}{
		{name: "build tree", files: buildTree(elf.EM_X86_64, nil), release: rel, wantArch: "amd64", image: "arch/x86/boot/bzImage", config: ".config",
			modules: []string{"kernel/fs/9p/9p.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}},
		{name: "build tree, arch given", files: buildTree(elf.EM_AARCH64, map[string]string{"Makefile": "x", "Module.symvers": "x", "scripts/x": "x"}), arch: "arm64",
			release: rel, wantArch: "arm64", image: "arch/arm64/boot/Image", config: ".config",
			modules: []string{"kernel/fs/9p/9p.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}},
		{name: "build tree, 6.2+ modules.order (.o)", files: buildTree(elf.EM_X86_64, map[string]string{"modules.order": strings.ReplaceAll(ninePOrder, ".ko\n", ".o\n")}),
			release: rel, wantArch: "amd64", image: "arch/x86/boot/bzImage", config: ".config",
			modules: []string{"kernel/fs/9p/9p.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}},
		{name: "installed", files: installed, release: rel, wantArch: "amd64", image: "bzImage", config: "boot/config-" + rel,
			modules: []string{"kernel/fs/9p/9p.ko.gz", "kernel/fs/netfs/netfs.ko.xz", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko.zst", "kernel/net/9p/9pnet_virtio.ko"}},
		{name: "release from the banner", files: buildTree(elf.EM_X86_64, map[string]string{"include/config/kernel.release": "", "vmlinux": bannerELF}),
			release: "6.1.0-test+", wantArch: "amd64", image: "arch/x86/boot/bzImage", config: ".config",
			modules: []string{"kernel/fs/9p/9p.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}},
		{name: "IKCONFIG", files: buildTree(elf.EM_AARCH64, map[string]string{".config": "", "vmlinux": ikELF}), release: rel, wantArch: "arm64", image: "arch/arm64/boot/Image",
			modules: []string{"kernel/fs/9p/9p.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/nls/nls_koi8-r.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			cache := t.TempDir()
			k, err := kernels.OpenPathIn(cache, dir, tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			if k.Release != tc.release || k.Arch != tc.wantArch || k.Local != dir {
				t.Fatalf("opened %q %q %q, want %q %q %q", k.Release, k.Arch, k.Local, tc.release, tc.wantArch, dir)
			}
			if u, _ := k.Uname(); u != tc.release {
				t.Errorf("Uname %q", u)
			}
			if img, _ := k.Vmlinuz(); img != filepath.Join(dir, tc.image) {
				t.Errorf("boot image %s, want %s", img, tc.image)
			}
			raw, err := k.VmlinuxBTF()
			if err != nil || !bytes.Equal(raw, tinyBTF()) {
				t.Errorf("vmlinux BTF %x, %v", raw, err)
			}
			if !strings.HasPrefix(k.BTFPath(), cache) {
				t.Errorf("BTF cached at %s, outside the cache %s", k.BTFPath(), cache)
			}
			mods, _ := k.Modules()
			var rels []string
			for _, m := range mods {
				rels = append(rels, k.ModulePath(m))
			}
			slices.Sort(rels)
			if !slices.Equal(rels, tc.modules) {
				t.Errorf("modules %q, want %q", rels, tc.modules)
			}
			if p, err := k.Module("nls-koi8_r"); err != nil || !strings.HasPrefix(p, dir) {
				t.Errorf("Module(nls-koi8_r) = %s, %v", p, err)
			}
			if _, err := k.Module("ext4"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Module(ext4): %v, want fs.ErrNotExist", err)
			}
			cp, err := k.ConfigPath()
			if err != nil {
				t.Fatal(err)
			}
			if tc.config != "" && cp != filepath.Join(dir, tc.config) {
				t.Errorf("config %s, want %s", cp, tc.config)
			}
			if tc.config == "" && !strings.HasPrefix(cp, cache) {
				t.Errorf("IKCONFIG copy at %s, outside the cache", cp)
			}
			if b, err := os.ReadFile(cp); err != nil || string(b) != fakeConfig {
				t.Errorf("config file %s: %v", cp, err)
			}
			cfg, _ := k.Config()
			if cfg["CONFIG_9P_FS"] != "m" {
				t.Errorf("config: CONFIG_9P_FS=%q", cfg["CONFIG_9P_FS"])
			}
			if err := k.CheckGuest(); err != nil {
				t.Error(err)
			}
			if d, err := k.BuildDir(); (err == nil) != (tc.name == "build tree, arch given") || (err == nil && d != dir) {
				t.Errorf("BuildDir %q, %v", d, err)
			}
			// Nothing in the tree was written.
			var n int
			filepath.WalkDir(dir, func(_ string, d fs.DirEntry, _ error) error {
				if !d.IsDir() {
					n++
				}
				return nil
			})
			if n != len(tc.files) {
				t.Errorf("the tree holds %d files, was given %d", n, len(tc.files))
			}
		})
	}
}

func TestOpenPathErrors(t *testing.T) {
	noBTF := bytes.Replace(kernels.BTFELF(elf.EM_X86_64, tinyBTF()), []byte("\x00.BTF\x00"), []byte("\x00.TXT\x00"), 1)
	riscv := kernels.BTFELF(elf.EM_RISCV, tinyBTF())
	for _, tc := range []struct {
		name  string
		files map[string]string
		file  bool // the path is a file in the tree, not the tree
		arch  string
		is    error
		want  []string // in the message
	}{
		{name: "not a directory", files: map[string]string{"vmlinux": "x"}, file: true, is: kernels.ErrNotKernel, want: []string{"not a directory"}},
		{name: "not a kernel", files: map[string]string{"README": "hello"}, is: kernels.ErrNotKernel, want: []string{"no vmlinux", "arch/x86/boot/bzImage"}},
		{name: "vmlinux not ELF", files: buildTree(elf.EM_X86_64, map[string]string{"vmlinux": "#!/bin/sh\n"}), is: kernels.ErrNotKernel, want: []string{"vmlinux: not an ELF vmlinux"}},
		{name: "other machine", files: buildTree(elf.EM_X86_64, map[string]string{"vmlinux": string(riscv)}), is: kernels.ErrNotKernel, want: []string{"EM_RISCV"}},
		{name: "arch mismatch", files: buildTree(elf.EM_X86_64, nil), arch: "arm64", is: kernels.ErrArchMismatch, want: []string{"vmlinux is amd64, not arm64", "--arch amd64"}},
		{name: "no BTF", files: buildTree(elf.EM_X86_64, map[string]string{"vmlinux": string(noBTF)}), is: kernels.ErrNoBTF, want: []string{"/vmlinux: ", "no .BTF section", "CONFIG_DEBUG_INFO_BTF=y"}},
		{name: "no boot image", files: buildTree(elf.EM_X86_64, map[string]string{"arch/x86/boot/bzImage": ""}), is: kernels.ErrNotKernel, want: []string{"no boot image", "arch/x86/boot/bzImage"}},
		{name: "module not built", files: buildTree(elf.EM_X86_64, map[string]string{"fs/9p/9p.ko": ""}), is: fs.ErrNotExist, want: []string{"modules.order: line 4", "fs/9p/9p.ko is not built (make modules)"}},
		{name: "no modules", files: buildTree(elf.EM_X86_64, map[string]string{"modules.order": "", "fs/9p/9p.ko": "", "lib/modules/6.12.0/kernel/a.ko": "m"}),
			is: kernels.ErrNotKernel, want: []string{"no modules.order", "no lib/modules/6.13.0-rc1-dirty/ (lib/modules/ holds 6.12.0)", "make modules_install INSTALL_MOD_PATH="}},
		{name: "no config", files: buildTree(elf.EM_X86_64, map[string]string{".config": ""}), is: kernels.ErrConfig, want: []string{"no kernel config", "no IKCONFIG", "CONFIG_IKCONFIG=y"}},
		{name: "no module BTF", files: buildTree(elf.EM_X86_64, map[string]string{".config": strings.Replace(fakeConfig, "CONFIG_DEBUG_INFO_BTF_MODULES=y", "# CONFIG_DEBUG_INFO_BTF_MODULES is not set", 1)}),
			is: kernels.ErrConfig, want: []string{"/.config: CONFIG_DEBUG_INFO_BTF_MODULES is not set", "add CONFIG_DEBUG_INFO_BTF=y CONFIG_DEBUG_INFO_BTF_MODULES=y"}},
		{name: "bad release", files: buildTree(elf.EM_X86_64, map[string]string{"include/config/kernel.release": "a b\n"}), want: []string{"kernel.release: \"a b\" is not a kernel release"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			if tc.file {
				dir = filepath.Join(dir, "vmlinux")
			}
			_, err := kernels.OpenPathIn(t.TempDir(), dir, tc.arch)
			if err == nil {
				t.Fatal("opened")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := kernels.OpenPathIn(t.TempDir(), filepath.Join(t.TempDir(), "gone"), ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}

// CheckGuest names every option the guest lacks, what it is for, and the
// config lines that fix it.
func TestCheckGuest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      elf.Machine
		config func(string) string
		drop   []string // module files removed
		want   []string
	}{
		{name: "9p not set", m: elf.EM_X86_64, config: func(c string) string {
			return strings.Replace(c, "CONFIG_NET_9P_VIRTIO=m", "# CONFIG_NET_9P_VIRTIO is not set", 1)
		}, want: []string{"/.config: CONFIG_NET_9P_VIRTIO is not set: the guest mounts its share over virtio-9p; add CONFIG_NET_9P=y CONFIG_NET_9P_VIRTIO=y CONFIG_9P_FS=y"}},
		{name: "9p module missing", m: elf.EM_X86_64, config: func(c string) string { return c }, drop: []string{"fs/9p/9p.ko"},
			want: []string{"CONFIG_9P_FS =m but 9p.ko is not among the kernel's modules"}},
		{name: "9p built in", m: elf.EM_X86_64, config: func(c string) string {
			return strings.NewReplacer("CONFIG_9P_FS=m", "CONFIG_9P_FS=y", "CONFIG_NET_9P=m", "CONFIG_NET_9P=y").Replace(c)
		}, drop: []string{"fs/9p/9p.ko", "net/9p/9pnet.ko"}},
		{name: "console as module", m: elf.EM_X86_64, config: func(c string) string {
			return strings.Replace(c, "CONFIG_SERIAL_8250=y", "CONFIG_SERIAL_8250=m", 1)
		}, want: []string{"CONFIG_SERIAL_8250 =m: it must be built in: the guest's console is the serial port (console=ttyS0)"}},
		{name: "arm64 console", m: elf.EM_AARCH64, config: func(c string) string {
			return strings.NewReplacer("CONFIG_SERIAL_AMBA_PL011_CONSOLE=y\n", "", "CONFIG_SERIAL_8250_CONSOLE=y\n", "").Replace(c)
		}, want: []string{"CONFIG_SERIAL_AMBA_PL011_CONSOLE is not set: the guest's console is the PL011 UART (console=ttyAMA0)"}},
		{name: "two missing", m: elf.EM_X86_64, config: func(c string) string {
			return strings.NewReplacer("CONFIG_DEVTMPFS=y\n", "", "CONFIG_ACPI=y\n", "# CONFIG_ACPI is not set\n").Replace(c)
		}, want: []string{"CONFIG_DEVTMPFS is not set: u-root's init mounts devtmpfs on /dev; add CONFIG_DEVTMPFS=y", "CONFIG_ACPI is not set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]string{".config": tc.config(fakeConfig)}
			for _, d := range tc.drop {
				extra[d] = ""
				extra["modules.order"] = strings.Replace(ninePOrder, d+"\n", "", 1)
			}
			if len(tc.drop) == 2 {
				extra["modules.order"] = "fs/netfs/netfs.ko\nnet/9p/9pnet_virtio.ko\nfs/nls/nls_koi8-r.ko\n"
			}
			k, err := kernels.OpenPathIn(t.TempDir(), tree(t, buildTree(tc.m, extra)), "")
			if err != nil {
				t.Fatal(err)
			}
			err = k.CheckGuest()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, kernels.ErrConfig) {
				t.Fatalf("CheckGuest: %v, want ErrConfig", err)
			}
			msg := strings.ReplaceAll(err.Error(), " =m", "=m")
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, " =m", "=m"); !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n  "); got != len(tc.want) {
				t.Errorf("%d lines, want %d:\n%v", got, len(tc.want), err)
			}
		})
	}
}

func TestIsPathAndOpenOrFetch(t *testing.T) {
	dir := tree(t, buildTree(elf.EM_X86_64, nil))
	t.Chdir(filepath.Dir(dir))
	for arg, want := range map[string]bool{"6.12.117": false, "7.2.13+deb14": false, "linux": true, "./linux": true, dir: true, "nope/x": true} {
		if got := kernels.IsPath(arg); got != want {
			t.Errorf("IsPath(%q) = %v", arg, got)
		}
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("BTFRECON_CACHE", "")
	k, err := kernels.OpenOrFetch(context.Background(), "linux", "amd64", nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.Local != dir || k.Release != "6.13.0-rc1-dirty" {
		t.Errorf("OpenOrFetch(linux): %s", k)
	}
}

func TestBannerRelease(t *testing.T) {
	for in, want := range map[string]string{
		"\x00Linux version 6.12.117+deb12-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-12)": "6.12.117+deb12-amd64",
		"Linux version %s (%s)\x00Linux version 6.1.0 (a@b) #1":                                             "6.1.0",
		"Linux version \x00":           "",
		"no banner":                    "",
		"Linux version 6.1.0-x #1 SMP": "",
	} {
		if got, _ := kernels.BannerRelease([]byte(in)); got != want {
			t.Errorf("BannerRelease(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIKConfig(t *testing.T) {
	blob := gz(t, "CONFIG_X=y\n")
	for _, tc := range []struct {
		name, in, want string
		is             error
	}{
		{name: "blob", in: "code IKCFG_ST IKCFG_ED code\x00IKCFG_ST" + blob + "IKCFG_ED\x00", want: "CONFIG_X=y\n"},
		{name: "none", in: "no markers", is: kernels.ErrNoIKConfig},
		{name: "markers only", in: "IKCFG_STIKCFG_ED", is: kernels.ErrNoIKConfig},
		{name: "no end", in: "IKCFG_ST" + blob, is: kernels.ErrNoIKConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kernels.IKConfig([]byte(tc.in), "img")
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Fatalf("IKConfig: %q, %v, want %v", got, err, tc.is)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("IKConfig: %q, %v", got, err)
			}
		})
	}
}

func TestBuiltIn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  map[string]bool
	}{
		{name: "modules.builtin", extra: map[string]string{"modules.builtin": "kernel/fs/ext4/ext4.ko\nkernel/drivers/tty/serial/8250/8250.ko\n"},
			want: map[string]bool{"ext4": true, "8250": true, "9p": false, "nls-koi8-r": false}},
		{name: "installed modules.builtin wins over config", extra: map[string]string{"lib/modules/6.13.0-rc1-dirty/modules.builtin": "kernel/fs/9p/9p.ko\n",
			".config": strings.Replace(fakeConfig, "CONFIG_NET_9P=m", "CONFIG_NET_9P=y", 1)},
			want: map[string]bool{"9p": true, "9pnet": false}},
		{name: "config of the guest's modules", extra: map[string]string{".config": strings.Replace(fakeConfig, "CONFIG_NET_9P=m", "CONFIG_NET_9P=y", 1)},
			want: map[string]bool{"9pnet": true, "9p": false, "ext4": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := kernels.OpenPathIn(t.TempDir(), tree(t, buildTree(elf.EM_X86_64, tc.extra)), "")
			if err != nil {
				t.Fatal(err)
			}
			for m, want := range tc.want {
				if got := k.BuiltIn(m); got != want {
					t.Errorf("BuiltIn(%s) = %v", m, got)
				}
			}
		})
	}
}
