package kernels

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cache"
)

// Errors of a local kernel (OpenPath): every message names the file and
// what to do about it.
var (
	// ErrNotKernel: the path is not a kernel build directory nor a
	// directory holding vmlinux, a boot image and lib/modules/.
	ErrNotKernel = errors.New("not a kernel build directory")
	// ErrArchMismatch: the vmlinux is for another architecture than asked.
	ErrArchMismatch = errors.New("kernel architecture differs")
)

// localLayout says what OpenPath accepts, for messages.
const localLayout = "a kernel build directory (vmlinux, arch/x86/boot/bzImage or arch/arm64/boot/Image, " +
	"modules in the tree with modules.order or installed under lib/modules/<release>/ by " +
	"make modules_install INSTALL_MOD_PATH=DIR), or a directory holding vmlinux, a boot image and lib/modules/"

// localKernel is where a kernel the user built keeps its pieces.
type localKernel struct {
	dir     string
	vmlinux string
	image   string
	// modules are the module files, sorted; rel maps each to its path
	// below lib/modules/<release>/ as modules_install lays it out
	// ("kernel/fs/nls/nls_utf8.ko").
	modules []string
	rel     map[string]string
	inTree  bool
	// config is the config file, or "" when the config is the IKCONFIG
	// copy in ikconfig (read out of ikconfigFrom).
	config       string
	ikconfig     []byte
	ikconfigFrom string
	cfg          map[string]string
	// key names the kernel's content (vmlinux BTF, modules, image) in the
	// cache: a rebuilt tree gets a new one.
	key string
}

// IsPath reports whether a kernel argument names a directory rather than
// a release: it contains a '/' or is an existing directory.
func IsPath(arg string) bool {
	if strings.ContainsRune(arg, '/') {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.IsDir()
}

// OpenPath opens a kernel the user built: a build directory or a
// directory holding its vmlinux, boot image and modules (see localLayout).
// arch "" takes the vmlinux's ELF machine; another arch than the
// vmlinux's is ErrArchMismatch. The vmlinux must carry .BTF and the
// config CONFIG_DEBUG_INFO_BTF_MODULES=y. Nothing in dir is written.
func OpenPath(dir, arch string) (*Kernel, error) {
	c, err := cache.Dir()
	if err != nil {
		return nil, err
	}
	return OpenPathIn(c, dir, arch)
}

// OpenPathIn is OpenPath with an explicit cache directory.
func OpenPathIn(cacheDir, dir, arch string) (*Kernel, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("kernel %s: not a directory: %w: want %s", dir, ErrNotKernel, localLayout)
	}
	l := &localKernel{dir: abs, vmlinux: filepath.Join(abs, "vmlinux")}
	if _, err := os.Stat(l.vmlinux); err != nil {
		return nil, fmt.Errorf("%s: no vmlinux: %w: want %s", abs, ErrNotKernel, localLayout)
	}
	got, err := vmlinuxArch(l.vmlinux)
	if err != nil {
		return nil, err
	}
	if arch != "" && arch != got {
		return nil, fmt.Errorf("%s: %w: the vmlinux is %s, not %s (pass --arch %s)", l.vmlinux, ErrArchMismatch, got, arch, got)
	}
	raw, err := elfFileBTF(l.vmlinux)
	if err != nil {
		return nil, err
	}
	release, err := l.findRelease()
	if err != nil {
		return nil, err
	}
	if l.image, err = l.findImage(got, release); err != nil {
		return nil, err
	}
	if err := l.findModules(release); err != nil {
		return nil, err
	}
	if err := l.findConfig(release); err != nil {
		return nil, err
	}
	if err := l.checkBTFConfig(); err != nil {
		return nil, err
	}
	l.key, err = l.contentKey(raw)
	if err != nil {
		return nil, err
	}
	return &Kernel{Release: release, Arch: got, Local: abs, Dir: abs, BootDirs: []string{abs}, cacheDir: cacheDir, local: l}, nil
}

// vmlinuxArch is the Go arch of a vmlinux ELF.
func vmlinuxArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: not an ELF vmlinux (%v): %w: want %s", path, err, ErrNotKernel, localLayout)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("%s: ELF machine %v: %w: btfrecon boots amd64 (EM_X86_64) and arm64 (EM_AARCH64) kernels", path, f.Machine, ErrNotKernel)
}

// elfFileBTF reads the .BTF section of an ELF file without reading the
// rest (a build's vmlinux with DWARF runs to hundreds of MB).
func elfFileBTF(path string) ([]byte, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	s := f.Section(".BTF")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%s: %w: no .BTF section: the kernel was built without BTF; set CONFIG_DEBUG_INFO_BTF=y and CONFIG_DEBUG_INFO_BTF_MODULES=y (pahole installed) and rebuild", path, ErrNoBTF)
	}
	blob, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w", path, s.Offset, err)
	}
	n, err := checkBTF(blob)
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w", path, s.Offset, err)
	}
	if n != len(blob) {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w: section is %d bytes, BTF header says %d", path, s.Offset, ErrBadBTF, len(blob), n)
	}
	return blob, nil
}

// findRelease takes the release from include/config/kernel.release (a
// build tree), else the one lib/modules/<release>/, else the vmlinux's
// "Linux version" banner.
func (l *localKernel) findRelease() (string, error) {
	kr := filepath.Join(l.dir, "include", "config", "kernel.release")
	if b, err := os.ReadFile(kr); err == nil {
		r := strings.TrimSpace(string(b))
		if !validRelease(r) {
			return "", fmt.Errorf("%s: %q is not a kernel release", kr, r)
		}
		return r, nil
	}
	if rels := l.installed(); len(rels) == 1 {
		return rels[0], nil
	} else if len(rels) > 1 {
		return "", fmt.Errorf("%s: more than one release installed (%s) and no include/config/kernel.release to choose", filepath.Join(l.dir, "lib", "modules"), strings.Join(rels, ", "))
	}
	data, err := os.ReadFile(l.vmlinux)
	if err != nil {
		return "", err
	}
	if r, ok := BannerRelease(data); ok {
		return r, nil
	}
	return "", fmt.Errorf("%s: no kernel release: no include/config/kernel.release, no lib/modules/<release>/, no \"Linux version\" banner in vmlinux", l.dir)
}

// installed lists the directories of lib/modules/ (the releases
// modules_install put there).
func (l *localKernel) installed() []string {
	ents, err := os.ReadDir(filepath.Join(l.dir, "lib", "modules"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// validRelease accepts what a kernel release is (`uname -r`) and a path
// can hold.
func validRelease(r string) bool {
	// VERSION.PATCHLEVEL... first, whatever LOCALVERSION adds.
	if r == "" || r[0] < '0' || r[0] > '9' || len(r) > 64 {
		return false
	}
	for _, c := range r {
		if c <= ' ' || c == '/' || c > '~' {
			return false
		}
	}
	return true
}

var bannerPrefix = []byte("Linux version ")

// BannerRelease finds the kernel's linux_banner ("Linux version <release>
// (<builder>) ...") in an image and returns the release.
func BannerRelease(data []byte) (string, bool) {
	for off := 0; ; {
		i := bytes.Index(data[off:], bannerPrefix)
		if i < 0 {
			return "", false
		}
		rest := data[off+i+len(bannerPrefix):]
		off += i + len(bannerPrefix)
		end := bytes.IndexAny(rest, " \x00\n")
		if end <= 0 || end+1 >= len(rest) || rest[end] != ' ' || rest[end+1] != '(' {
			continue // not the banner (a format string, a comment)
		}
		if r := string(rest[:end]); validRelease(r) {
			return r, true
		}
	}
}

// findImage picks the boot image: the build's (arch/x86/boot/bzImage,
// arch/arm64/boot/Image), else one beside vmlinux.
func (l *localKernel) findImage(arch, release string) (string, error) {
	var cands []string
	switch arch {
	case "amd64":
		cands = []string{"arch/x86/boot/bzImage", "bzImage"}
	case "arm64":
		cands = []string{"arch/arm64/boot/Image", "Image", "arch/arm64/boot/Image.gz", "Image.gz"}
	}
	cands = append(cands, "vmlinuz-"+release, "vmlinuz", "boot/vmlinuz-"+release)
	for _, c := range cands {
		p := filepath.Join(l.dir, c)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no boot image (%s): %w: want %s", l.dir, strings.Join(cands, ", "), ErrNotKernel, localLayout)
}

// moduleSuffixes are the module file names kbuild writes (modules_install
// compresses with CONFIG_MODULE_COMPRESS_*).
var moduleSuffixes = []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"}

// moduleBase is a module file's name without its suffix ("" if it is no
// module file).
func moduleBase(p string) string {
	b := filepath.Base(p)
	for _, s := range moduleSuffixes {
		if n, ok := strings.CutSuffix(b, s); ok && n != "" {
			return n
		}
	}
	return ""
}

// findModules lists the modules: the tree's, by modules.order, when the
// build left one; else those modules_install put under
// lib/modules/<release>/.
func (l *localKernel) findModules(release string) error {
	l.rel = map[string]string{}
	order := filepath.Join(l.dir, "modules.order")
	if b, err := os.ReadFile(order); err == nil {
		l.inTree = true
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			// modules.order names object paths (.ko; .o before 6.2) from the
			// tree's top; installed they sit below kernel/.
			rel := strings.TrimPrefix(line, "kernel/")
			if o, ok := strings.CutSuffix(rel, ".o"); ok {
				rel = o + ".ko"
			}
			if !strings.HasSuffix(rel, ".ko") || strings.Contains(rel, "..") || filepath.IsAbs(rel) {
				return fmt.Errorf("%s: line %d: %q is not a module path", order, n, line)
			}
			p := filepath.Join(l.dir, rel)
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("%s: line %d: %s is not built (make modules): %w", order, n, p, err)
			}
			l.modules = append(l.modules, p)
			l.rel[p] = "kernel/" + rel
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", order, err)
		}
	} else {
		root := filepath.Join(l.dir, "lib", "modules", release)
		if _, err := os.Stat(root); err != nil {
			what := "no lib/modules/" + release + "/"
			if rels := l.installed(); len(rels) > 0 {
				what += " (lib/modules/ holds " + strings.Join(rels, ", ") + ")"
			}
			return fmt.Errorf("%s: no modules: no modules.order (a build tree after make modules) and %s (make modules_install INSTALL_MOD_PATH=%s): %w", l.dir, what, l.dir, ErrNotKernel)
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && moduleBase(p) != "" {
				rel, _ := filepath.Rel(root, p)
				l.modules = append(l.modules, p)
				l.rel[p] = filepath.ToSlash(rel)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(l.modules) == 0 {
		return fmt.Errorf("%s: no modules (%s): the scenario loads modules; build with CONFIG_MODULES=y", l.dir, strings.Join(moduleSuffixes, ", "))
	}
	sort.Strings(l.modules)
	return nil
}

// contentKey names the kernel in the cache by its vmlinux BTF and the
// size and time of its image and every module.
func (l *localKernel) contentKey(raw []byte) (string, error) {
	h := sha256.New()
	h.Write(raw)
	for _, p := range append([]string{l.image}, l.modules...) {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// The Kernel methods' local side.

func (l *localKernel) vmlinuxBTF(k *Kernel) ([]byte, error) {
	if b, err := os.ReadFile(k.BTFPath()); err == nil {
		return b, nil
	}
	b, err := elfFileBTF(l.vmlinux)
	if err != nil {
		return nil, err
	}
	// Keyed by content: a rebuilt tree never reads a stale copy. Other
	// code (the corpus pack, the CLI) finds its files beside it.
	if err := writeFileAtomic(k.BTFPath(), b); err != nil {
		return nil, err
	}
	return b, nil
}

func (l *localKernel) module(name string) (string, error) {
	want := strings.ReplaceAll(name, "-", "_")
	for _, m := range l.modules {
		if strings.ReplaceAll(moduleBase(m), "-", "_") == want {
			return m, nil
		}
	}
	return "", fmt.Errorf("%s: module %q: %w", l.dir, name, fs.ErrNotExist)
}

// buildDir is the tree itself when it can build out-of-tree modules.
func (l *localKernel) buildDir() (string, error) {
	for _, f := range []string{"Makefile", "Module.symvers", "scripts"} {
		if _, err := os.Stat(filepath.Join(l.dir, f)); err != nil {
			return "", fmt.Errorf("%s: not a kbuild tree for out-of-tree modules (no %s): %w", l.dir, f, ErrNotKernel)
		}
	}
	return l.dir, nil
}

// ModulePath returns a module file's path below lib/modules/<release>/ as
// an install lays it out ("kernel/fs/nls/nls_utf8.ko[.xz]"), whichever
// layout the kernel has; p itself when it is not one of k's modules.
func (k *Kernel) ModulePath(p string) string {
	if k.local != nil {
		if r, ok := k.local.rel[p]; ok {
			return r
		}
		return p
	}
	if i := strings.Index(p, "/kernel/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// BuiltIn reports whether module name ('-' and '_' alike) is built into
// the kernel: listed in modules.builtin (the build's, or the one an
// install holds), or, where neither has one, the config option of one of
// the guest's modules (the 9p share's) is =y.
func (k *Kernel) BuiltIn(name string) bool {
	want := strings.ReplaceAll(name, "-", "_")
	var files []string
	if k.local != nil {
		files = []string{filepath.Join(k.Local, "modules.builtin"), filepath.Join(k.Local, "lib", "modules", k.Release, "modules.builtin")}
	} else {
		for _, d := range k.BootDirs {
			m, _ := filepath.Glob(filepath.Join(d, "lib", "modules", "*", "modules.builtin"))
			m2, _ := filepath.Glob(filepath.Join(d, "usr", "lib", "modules", "*", "modules.builtin"))
			files = append(append(files, m...), m2...)
		}
	}
	listed := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		listed = true
		for _, l := range strings.Fields(string(b)) {
			if strings.ReplaceAll(moduleBase(l), "-", "_") == want {
				return true
			}
		}
	}
	if listed {
		return false
	}
	cfg, err := k.Config()
	if err != nil {
		return false
	}
	for _, n := range guestNeeds(k.Arch) {
		if n.module == want && cfg[n.opt] == "y" {
			return true
		}
	}
	return false
}
