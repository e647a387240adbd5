package kernels

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/vmimages"
)

// Kernel is one kernel (release, arch), pinned or resolved, whose boot
// packages (the image; on sid also linux-modules and linux-base) are
// extracted in the cache. Its methods read only the cache; those of a
// kernel the user built (OpenPath, Local set) read its directory too.
type Kernel struct {
	Release string // canonical name, e.g. "6.12.117", "7.2.13+deb14"
	Arch    string // "amd64" or "arm64"
	Set     vmimages.Set
	// Dir is the extracted image package (the one holding vmlinuz).
	Dir string
	// BootDirs are the extracted boot packages, the image's first: where
	// the modules and the config are looked for.
	BootDirs []string
	// Local is the directory of a kernel the user built (OpenPath), ""
	// for a Debian kernel; Set is then empty.
	Local string

	cacheDir string
	local    *localKernel
}

// Open returns the kernel if its boot packages are already extracted under
// the default cache. It never downloads or resolves: a missing package is
// ErrNotCached, a release neither pinned nor resolved vmimages.ErrUnknown.
// release may be "X.Y.Z" or "X.Y.Z+debN".
func Open(release, arch string) (*Kernel, error) {
	dir, err := cache.Dir()
	if err != nil {
		return nil, err
	}
	return OpenIn(dir, release, arch)
}

// OpenIn is Open for an explicit cache directory.
func OpenIn(cacheDir, release, arch string) (*Kernel, error) {
	set, err := LookupIn(cacheDir, release, arch)
	if err != nil {
		return nil, err
	}
	k := &Kernel{Release: set.Release, Arch: arch, Set: set, cacheDir: cacheDir}
	for _, e := range set.Boot() {
		if !Extracted(cacheDir, e) {
			return nil, fmt.Errorf("%s %s: %s: %s: %w", set.Release, arch, e.Package, ExtractedDir(cacheDir, e), ErrNotCached)
		}
		k.BootDirs = append(k.BootDirs, ExtractedDir(cacheDir, e))
	}
	k.Dir = k.BootDirs[0]
	return k, nil
}

// Get fetches (if needed) the kernel's boot packages, and its headers
// packages when withHeaders is set, then opens it. A release that is
// neither pinned nor resolved is resolved from the archive first.
func (f *Fetcher) Get(ctx context.Context, release, arch string, withHeaders bool) (*Kernel, error) {
	set, err := f.Lookup(ctx, release, arch)
	if err != nil {
		return nil, err
	}
	entries := set.Boot()
	if withHeaders {
		h := set.Headers()
		if len(h) == 0 {
			return nil, fmt.Errorf("%s %s: no headers packages pinned: %s has none for it", set.Release, arch, set.Image().File)
		}
		entries = append(entries, h...)
	}
	if err := f.AptPrepare(ctx, entries); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, err := f.Fetch(ctx, e); err != nil {
			return nil, err
		}
	}
	root, err := f.cacheDir()
	if err != nil {
		return nil, err
	}
	return OpenIn(root, set.Release, arch)
}

// CacheDir is the cache directory the kernel was opened in.
func (k *Kernel) CacheDir() string { return k.cacheDir }

func (k *Kernel) String() string {
	if k.local != nil {
		return k.Release + "/" + k.Arch + " (" + k.Local + ")"
	}
	return k.Release + "/" + k.Arch
}

// bootFile returns the one file matching any of patterns (relative to a
// package root) in dirs.
func (k *Kernel) bootFile(what string, dirs []string, patterns ...string) (string, error) {
	var m []string
	for _, d := range dirs {
		for _, p := range patterns {
			got, err := filepath.Glob(filepath.Join(d, p))
			if err != nil {
				return "", err
			}
			m = append(m, got...)
		}
	}
	if len(m) != 1 {
		return "", fmt.Errorf("%s: want one %s (%s) in %s, found %d", k, what, strings.Join(patterns, " or "), strings.Join(dirs, ", "), len(m))
	}
	return m[0], nil
}

// Vmlinuz returns the path of the kernel image to boot: boot/vmlinuz-<uname>
// (bookworm, trixie) or usr/lib/modules/<uname>/vmlinuz.unsigned (sid's
// linux-binary-unsigned; vmlinuz in the signed linux-binary).
func (k *Kernel) Vmlinuz() (string, error) {
	if k.local != nil {
		return k.local.image, nil
	}
	return k.bootFile("kernel image", []string{k.Dir}, "boot/vmlinuz-*", "usr/lib/modules/*/vmlinuz", "usr/lib/modules/*/vmlinuz.unsigned")
}

// Uname is the kernel's `uname -r`, e.g. "6.12.117+deb12-amd64", taken from
// the vmlinuz name (boot/vmlinuz-<uname>) or its directory
// (usr/lib/modules/<uname>/vmlinuz).
func (k *Kernel) Uname() (string, error) {
	if k.local != nil {
		return k.Release, nil
	}
	p, err := k.Vmlinuz()
	if err != nil {
		return "", err
	}
	if u, ok := strings.CutPrefix(filepath.Base(p), "vmlinuz-"); ok {
		return u, nil
	}
	return filepath.Base(filepath.Dir(p)), nil
}

// BTFPath is where the raw vmlinux BTF is cached.
func (k *Kernel) BTFPath() string {
	if k.local != nil {
		return btfPath(k.cacheDir, "local-"+k.Release+"-"+k.local.key, k.Arch)
	}
	return btfPath(k.cacheDir, k.Release, k.Arch)
}

func btfPath(cacheDir, release, arch string) string {
	return filepath.Join(cacheDir, "btf", release+"-"+arch, "vmlinux.btf")
}

// VmlinuxBTF returns the raw vmlinux BTF (what /sys/kernel/btf/vmlinux of
// this kernel holds). It is read from the cache file when present; otherwise
// taken from the headers' vmlinux if that package is extracted, else from
// vmlinuz, and written to the cache file.
func (k *Kernel) VmlinuxBTF() ([]byte, error) {
	if k.local != nil {
		return k.local.vmlinuxBTF(k)
	}
	if b, err := os.ReadFile(k.BTFPath()); err == nil {
		return b, nil
	}
	var b []byte
	var err error
	if _, ok := k.HeadersVmlinux(); ok {
		b, err = k.HeadersBTF()
	} else {
		b, err = k.VmlinuzBTF()
	}
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(k.BTFPath(), b); err != nil {
		return nil, err
	}
	return b, nil
}

// Vmlinux returns the vmlinux BTF decoded, and its raw bytes.
func (k *Kernel) Vmlinux() (*btf.Spec, []byte, error) {
	raw, err := k.VmlinuxBTF()
	if err != nil {
		return nil, nil, err
	}
	s, err := btf.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s vmlinux BTF: %w", k, err)
	}
	return s, raw, nil
}

// OpenOrFetch opens a cached kernel, fetching its boot packages first when
// the cache does not hold them, and resolving the release from the archive
// first when it is neither pinned nor resolved. A release that is a path
// (IsPath) is a kernel the user built: OpenPath.
func OpenOrFetch(ctx context.Context, release, arch string, progress io.Writer) (*Kernel, error) {
	if IsPath(release) {
		return OpenPath(release, arch)
	}
	k, err := Open(release, arch)
	if errors.Is(err, ErrNotCached) || errors.Is(err, vmimages.ErrUnknown) {
		k, err = (&Fetcher{Progress: progress}).Get(ctx, release, arch, false)
	}
	return k, err
}

// VmlinuzBTF extracts the BTF from vmlinuz, bypassing the cache file.
func (k *Kernel) VmlinuzBTF() ([]byte, error) {
	if k.local != nil {
		return elfFileBTF(k.local.vmlinux)
	}
	p, err := k.Vmlinuz()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ExtractVmlinuxBTF(data, p)
}

// HeadersDir returns the extracted linux-headers-<release>-<arch> tree
// (usr/src/linux-headers-*) when that package is in the cache.
func (k *Kernel) HeadersDir() (string, bool) {
	if k.local != nil {
		d, err := k.local.buildDir()
		return d, err == nil
	}
	e, ok := k.Set.Get(vmimages.KindHeaders)
	if !ok || !Extracted(k.cacheDir, e) {
		return "", false
	}
	m, _ := filepath.Glob(filepath.Join(ExtractedDir(k.cacheDir, e), "usr", "src", "linux-headers-*"))
	if len(m) != 1 {
		return "", false
	}
	return m[0], true
}

// HeadersVmlinux returns the headers package's vmlinux ELF, if cached.
func (k *Kernel) HeadersVmlinux() (string, bool) {
	if k.local != nil {
		return k.local.vmlinux, true
	}
	d, ok := k.HeadersDir()
	if !ok {
		return "", false
	}
	p := filepath.Join(d, "vmlinux")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// HeadersBTF reads .BTF from the headers' vmlinux, bypassing the cache file.
func (k *Kernel) HeadersBTF() ([]byte, error) {
	if k.local != nil {
		return elfFileBTF(k.local.vmlinux)
	}
	p, ok := k.HeadersVmlinux()
	if !ok {
		return nil, fmt.Errorf("%s: headers vmlinux: %w", k, ErrNotCached)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ELFSectionBTF(data, p)
}

// Modules returns the sorted paths of every *.ko.xz under lib/modules and
// usr/lib/modules of the boot packages (the image's on bookworm; sid's
// linux-modules has usr/lib/modules/<uname>/kernel).
func (k *Kernel) Modules() ([]string, error) {
	if k.local != nil {
		return append([]string(nil), k.local.modules...), nil
	}
	var out []string
	for _, dir := range k.BootDirs {
		for _, root := range []string{filepath.Join(dir, "lib", "modules"), filepath.Join(dir, "usr", "lib", "modules")} {
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.Type().IsRegular() && strings.HasSuffix(p, ".ko.xz") {
					out = append(out, p)
				}
				return nil
			})
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no *.ko.xz under lib/modules or usr/lib/modules of %s", k, strings.Join(k.BootDirs, ", "))
	}
	sort.Strings(out)
	return out, nil
}

// Module returns the path of the module named name (e.g. "9pnet_virtio";
// '-' and '_' are equivalent, as for modprobe).
func (k *Kernel) Module(name string) (string, error) {
	if k.local != nil {
		return k.local.module(name)
	}
	mods, err := k.Modules()
	if err != nil {
		return "", err
	}
	want := strings.ReplaceAll(name, "-", "_")
	for _, m := range mods {
		if strings.ReplaceAll(strings.TrimSuffix(filepath.Base(m), ".ko.xz"), "-", "_") == want {
			return m, nil
		}
	}
	return "", fmt.Errorf("%s: module %q: %w", k, name, fs.ErrNotExist)
}

// ConfigPath returns the kernel's build config: boot/config-<uname> of the
// image (bookworm, trixie) or usr/lib/modules/<uname>/config of sid's
// linux-base.
func (k *Kernel) ConfigPath() (string, error) {
	if k.local != nil {
		return k.local.configPath(k)
	}
	return k.bootFile("build config", k.BootDirs, "boot/config-*", "usr/lib/modules/*/config", "lib/modules/*/config")
}

// Config parses the kernel's build config. Keys keep their CONFIG_ prefix;
// values are as written ("y", "m", a number, or a quoted string, quotes
// kept); "# CONFIG_X is not set" lines give "n", so a disabled option is
// told apart from one this kernel does not know.
func (k *Kernel) Config() (map[string]string, error) {
	if k.local != nil {
		return maps.Clone(k.local.cfg), nil
	}
	p, err := k.ConfigPath()
	if err != nil {
		return nil, err
	}
	fd, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	cfg, err := ParseConfig(fd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return cfg, nil
}

// ParseConfig parses a kconfig .config file (see Kernel.Config).
func ParseConfig(r io.Reader) (map[string]string, error) {
	cfg := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "# CONFIG_"); ok {
			if name, ok := strings.CutSuffix(rest, " is not set"); ok {
				cfg["CONFIG_"+name] = "n"
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(key, "CONFIG_") {
			return nil, fmt.Errorf("line %d: not a config line: %q", n, line)
		}
		cfg[key] = val
	}
	return cfg, sc.Err()
}

// BuildDir returns a kbuild tree for building out-of-tree modules against
// this kernel: `make -C <dir> M=<module dir> modules`. Debian splits the tree
// over three packages (headers, headers-common, kbuild) that reach each other
// by /usr/src and ../../lib paths, so the extracted packages are copied into
// one root, $CACHE/kernels/build-<release>-<arch>/, and the headers Makefile's
// absolute include is pointed into it. Built once (atomically), offline; the
// three packages must be extracted (make testdata-headers), else ErrNotCached.
func (k *Kernel) BuildDir() (string, error) {
	if k.local != nil {
		return k.local.buildDir()
	}
	pkgs := k.Set.Headers()
	if len(pkgs) != 3 {
		return "", fmt.Errorf("%s: %s lists %d of the 3 headers packages", k, k.Set.Image().File, len(pkgs))
	}
	return MergeBuildTree(k.cacheDir, "build-"+k.Release+"-"+k.Arch, k.Arch, pkgs)
}

// MergeBuildTree copies extracted packages into one root under the cache's
// kernels/ (they reach each other by /usr/src and ../../lib paths) and
// points the headers Makefile's absolute include into it: a kbuild tree
// for out-of-tree modules for arch. Done once, atomically; the marker holds
// the packages' sha256s, so a catalog change rebuilds it.
func MergeBuildTree(cacheDir, name, arch string, pkgs []vmimages.Entry) (string, error) {
	parent := filepath.Join(cacheDir, "kernels")
	root := filepath.Join(parent, name)
	var sums []string
	for _, e := range pkgs {
		sums = append(sums, e.SHA256)
	}
	marker := strings.Join(sums, " ") + "\n"
	find := func(r string) (string, error) {
		m, _ := filepath.Glob(filepath.Join(r, "usr", "src", "linux-headers-*-"+arch))
		if len(m) != 1 {
			return "", fmt.Errorf("%s: want one usr/src/linux-headers-*-%s, found %d", r, arch, len(m))
		}
		return m[0], nil
	}
	if b, err := os.ReadFile(filepath.Join(root, CompleteMarker)); err == nil && string(b) == marker {
		return find(root)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, "."+name+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, e := range pkgs {
		if !Extracted(cacheDir, e) {
			return "", fmt.Errorf("%s: %s: %w (make testdata-headers)", name, e, ErrNotCached)
		}
		// cp -a keeps the packages' symlinks as they are; they are relative
		// within the merged root.
		src := ExtractedDir(cacheDir, e) + "/."
		if out, err := exec.Command("cp", "-a", src, tmp).CombinedOutput(); err != nil {
			return "", fmt.Errorf("cp -a %s %s: %w\n%s", src, tmp, err, out)
		}
	}
	os.Remove(filepath.Join(tmp, CompleteMarker))
	dir, err := find(tmp)
	if err != nil {
		return "", err
	}
	mk := filepath.Join(dir, "Makefile")
	b, err := os.ReadFile(mk)
	if err != nil {
		return "", err
	}
	fixed := strings.ReplaceAll(string(b), "include /usr/src/", "include "+filepath.Join(root, "usr", "src")+"/")
	if fixed == string(b) {
		return "", fmt.Errorf("%s: no \"include /usr/src/\" to redirect", mk)
	}
	if err := os.WriteFile(mk, []byte(fixed), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, CompleteMarker), []byte(marker), 0o644); err != nil {
		return "", err
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, root); err != nil {
		return "", err
	}
	return find(root)
}
