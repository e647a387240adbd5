// Package kbuild builds Linux kernels from a source tree (a directory or a
// Debian linux-source tarball) for the kernel-side checks: patches applied
// on a copy, tinyconfig plus config fragments (every fragment line checked
// after olddefconfig), vmlinux, the boot image and modules, native amd64 or
// arm64 cross-built with Debian's gcc-aarch64-linux-gnu.
//
// A build is cached under <cache>/<key>, the key hashing the tree's
// content, the patches' diffs, the fragments, the arch and the toolchain's
// versions (gcc, binutils, pahole). It is made in a temporary directory
// renamed into place once its manifest (kbuild.json) is written, so a
// failed or interrupted build is never taken for a cached one; a failed
// build's log is kept under <cache>/logs and named in the error.
//
// A build may start from a copy of another build's object tree of the same
// source directory (a seed): kbuild's fixdep records which CONFIG_ symbols
// and files each object depends on, so a second config of the same tree,
// or the same config after an edit, rebuilds only what changed.
package kbuild

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/cache"
)

// ErrBuild is a kernel build (config or make) that failed.
var ErrBuild = errors.New("kernel build failed")

// ErrToolchain is a compiler or tool the build needs that is missing.
var ErrToolchain = errors.New("toolchain missing")

// scheme changes when what a build directory holds changes.
const scheme = "kbuild/1"

// Spec is one kernel to build.
type Spec struct {
	Tree      string   // a kernel source directory or a linux-source tarball
	Patches   []string // applied in order with patch -p1 on a copy
	Arch      string   // amd64 or arm64
	Fragments []string // config fragments over tinyconfig, later ones winning
	Pahole    string   // kbuild's PAHOLE ("" = pahole from PATH)
	Jobs      int      // make -j (0 = the number of CPUs)
	Name      string   // a label for progress lines ("A", "other")
	// ConfigOnly stops after the config is made and checked: nothing is
	// cached (a quick check of the fragments against a tree).
	ConfigOnly bool
}

// Build is a finished build: Dir is the object tree (make O=), holding
// vmlinux, .config, Module.symvers and the image; kbuild.json describes it.
type Build struct {
	Key       string   `json:"key"`
	Dir       string   `json:"dir"`
	Arch      string   `json:"arch"`
	MakeArch  string   `json:"make_arch"`
	Cross     string   `json:"cross_compile,omitempty"`
	Image     string   `json:"image"` // path relative to Dir
	Src       string   `json:"src"`   // the source directory make ran in
	From      string   `json:"from"`  // the tree as given
	TreeHash  string   `json:"tree_hash"`
	Version   string   `json:"version"`
	Patches   []string `json:"patches,omitempty"`
	Fragments []string `json:"fragments"`
	ConfigKey string   `json:"config_key"`
	Toolchain []string `json:"toolchain"`
	Pahole    string   `json:"pahole"`
	Seed      string   `json:"seed,omitempty"` // the build whose objects it started from
	Seconds   float64  `json:"seconds"`
	Cached    bool     `json:"-"`
}

// ImagePath is the boot image's absolute path.
func (b *Build) ImagePath() string { return filepath.Join(b.Dir, b.Image) }

// MakeArgs are the variables every make of this build (and of a module
// built against it) passes.
func (b *Build) MakeArgs() []string {
	a := []string{"ARCH=" + b.MakeArch, "PAHOLE=" + b.Pahole}
	if b.Cross != "" {
		a = append(a, "CROSS_COMPILE="+b.Cross)
	}
	return a
}

// Builder builds into a cache directory.
type Builder struct {
	Cache    string    // e.g. $CACHE/kbuild
	Progress io.Writer // phase lines with seconds (nil: none)
}

type archInfo struct {
	makeArch, dir, cross, target, image string
}

func lookupArch(arch string) (archInfo, error) {
	switch arch {
	case "amd64", "x86_64":
		return archInfo{"x86_64", "x86", "", "bzImage", "arch/x86/boot/bzImage"}, nil
	case "arm64", "aarch64":
		return archInfo{"arm64", "arm64", "aarch64-linux-gnu-", "Image", "arch/arm64/boot/Image"}, nil
	}
	return archInfo{}, fmt.Errorf("unknown arch %q (amd64 or arm64)", arch)
}

func (bl *Builder) logf(format string, args ...any) {
	if bl.Progress != nil {
		fmt.Fprintf(bl.Progress, format+"\n", args...)
	}
}

// Prepare resolves the source a spec builds from (extracting, patching)
// and its key, without building.
func (bl *Builder) Prepare(s Spec) (Tree, *Build, error) {
	ai, err := lookupArch(s.Arch)
	if err != nil {
		return Tree{}, nil, err
	}
	tree, err := openTree(s.Tree, ai.dir, filepath.Join(bl.Cache, "src"), filepath.Join(bl.Cache, "stat"), bl.logf)
	if err != nil {
		return Tree{}, nil, err
	}
	src := tree.Dir
	pk := ""
	if len(s.Patches) > 0 {
		if pk, err = patchesKey(s.Patches); err != nil {
			return Tree{}, nil, err
		}
		dir := filepath.Join(bl.Cache, "src", tree.Hash[:16]+"-"+pk[:16])
		if _, err := os.Stat(filepath.Join(dir, ".extracted")); err != nil {
			if err := applyPatches(tree.Dir, dir, s.Patches, bl.logf); err != nil {
				return Tree{}, nil, err
			}
		}
		src = filepath.Join(dir, filepath.Base(tree.Dir))
	}
	pahole := s.Pahole
	if pahole == "" {
		pahole = "pahole"
	}
	tools, err := toolchain(ai.cross, pahole)
	if err != nil {
		return Tree{}, nil, err
	}
	frags := make([]string, len(s.Fragments))
	for i, f := range s.Fragments {
		if frags[i], err = filepath.Abs(f); err != nil {
			return Tree{}, nil, err
		}
	}
	ck, err := configKey(s.Arch, frags, tools)
	if err != nil {
		return Tree{}, nil, err
	}
	key := buildKey(tree.Hash, pk, ck)
	b := &Build{Key: key, Dir: filepath.Join(bl.Cache, key), Arch: s.Arch, MakeArch: ai.makeArch,
		Cross: ai.cross, Image: ai.image, Src: src, From: tree.From, TreeHash: tree.Hash,
		Version: tree.Version, Patches: s.Patches, Fragments: frags, ConfigKey: ck,
		Toolchain: tools, Pahole: pahole}
	return tree, b, nil
}

// buildKey is what names a build directory.
func buildKey(treeHash, patchesKey, configKey string) string {
	h := sha256.Sum256([]byte(scheme + "\x00" + treeHash + "\x00" + patchesKey + "\x00" + configKey))
	return fmt.Sprintf("%x", h[:8])
}

// configKey hashes what configures and compiles a tree: the arch, each
// fragment's content in order, the toolchain's versions.
func configKey(arch string, frags []string, tools []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00arch %s\x00", scheme, arch)
	for _, f := range frags {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("config fragment: %w", err)
		}
		fmt.Fprintf(h, "fragment %d\x00", len(b))
		h.Write(b)
	}
	for _, t := range tools {
		fmt.Fprintf(h, "tool %s\x00", t)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16], nil
}

// toolchain is the first --version line of the compiler, the linker and
// pahole; a missing one is ErrToolchain naming it and its Debian package.
func toolchain(cross, pahole string) ([]string, error) {
	var out []string
	for _, t := range []struct{ bin, pkg string }{
		{cross + "gcc", "gcc"}, {cross + "ld", "binutils"}, {pahole, "dwarves"}, {"make", "make"},
		{"flex", "flex"}, {"bison", "bison"}, {"bc", "bc"},
	} {
		if cross != "" && t.pkg == "gcc" {
			t.pkg = "gcc-aarch64-linux-gnu"
		}
		if cross != "" && t.pkg == "binutils" {
			t.pkg = "binutils-aarch64-linux-gnu"
		}
		p, err := exec.LookPath(t.bin)
		if err != nil {
			return nil, fmt.Errorf("%w: %s not found (Debian package %s)", ErrToolchain, t.bin, t.pkg)
		}
		switch t.bin {
		case "flex", "bison", "bc":
			continue // present is enough: their versions do not change objects
		}
		v, err := exec.Command(p, "--version").Output()
		if err != nil {
			return nil, fmt.Errorf("%w: %s --version: %v", ErrToolchain, p, err)
		}
		first, _, _ := strings.Cut(string(v), "\n")
		out = append(out, t.bin+": "+strings.TrimSpace(first))
	}
	return out, nil
}

// Build builds s (or finds it cached). seeds are builds whose object
// trees it may start from (e.g. the first kernel for the second); a
// cached build of the same source and config is preferred to them.
func (bl *Builder) Build(ctx context.Context, s Spec, seeds ...*Build) (*Build, error) {
	_, b, err := bl.Prepare(s)
	if err != nil {
		return nil, err
	}
	name := s.Name
	if name == "" {
		name = b.Key
	}
	if c, err := readManifest(b.Dir); err == nil {
		c.Cached = true
		bl.logf("kbuild: %s: cached %s", name, c.Dir)
		return c, nil
	}
	seed := bl.pickSeed(b, seeds)
	jobs := s.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	if err := os.MkdirAll(bl.Cache, 0o755); err != nil {
		return nil, err
	}
	// Every build of one source directory and arch is made at the same
	// path: the tools kbuild builds (objtool, resolve_btfids) record
	// absolute paths, and a copied object tree at another path rebuilds
	// them, and with objtool every object. One build at a time holds it.
	tmp := filepath.Join(bl.Cache, ".work-"+shortHash(b.Src+"\x00"+b.Arch))
	unlock, err := cache.Lock(tmp + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c, err := readManifest(b.Dir); err == nil { // made while we waited
		c.Cached = true
		return c, nil
	}
	if err := os.RemoveAll(tmp); err != nil { // an interrupted build's
		return nil, err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(tmp)
		}
	}()
	total := timer()
	if seed != nil {
		t := timer()
		// the copy keeps mtimes, so make sees the objects as up to date
		cmd := exec.CommandContext(ctx, "cp", "-a", seed.Dir+"/.", tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("copy seed %s: %w: %s", seed.Dir, err, lastLines(string(out), 5))
		}
		os.Remove(filepath.Join(tmp, "kbuild.json"))
		b.Seed = seed.Key
		bl.logf("kbuild: %s: objects of %s copied in %.1f s", name, seed.Key, t())
	}
	logPath := filepath.Join(tmp, "build.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fail := func(phase string, err error) (*Build, error) {
		logf.Close()
		kept := filepath.Join(bl.Cache, "logs", fmt.Sprintf("%s-%s.log", b.Key, time.Now().UTC().Format("20060102T150405")))
		os.MkdirAll(filepath.Dir(kept), 0o755)
		if e := os.Rename(logPath, kept); e != nil {
			kept = "(log lost: " + e.Error() + ")"
		}
		tail, _ := os.ReadFile(kept)
		return nil, fmt.Errorf("%w: %s %s (%s, Linux %s, %s): %w\n%s\n  log: %s", ErrBuild, name, phase,
			b.Src, b.Version, b.Arch, err, indent(lastLines(string(tail), 12)), kept)
	}
	mk := func(args ...string) error {
		full := append([]string{"-C", b.Src, "O=" + tmp}, b.MakeArgs()...)
		full = append(full, args...)
		fmt.Fprintf(logf, "+ make %s\n", strings.Join(full, " "))
		cmd := exec.CommandContext(ctx, "make", full...)
		cmd.Stdout, cmd.Stderr = logf, logf
		return cmd.Run()
	}
	t := timer()
	// The seed's own config when it was made from the same fragments and
	// toolchain (an edited tree's earlier build): make's syncconfig still
	// follows a changed Kconfig, and the fragments are checked again after
	// the build.
	sameConfig := seed != nil && seed.ConfigKey == b.ConfigKey && !s.ConfigOnly
	if !sameConfig {
		if err := mk("-s", "tinyconfig"); err != nil {
			return fail("tinyconfig", err)
		}
		if len(b.Fragments) > 0 {
			args := append([]string{"-m", "-O", tmp, filepath.Join(tmp, ".config")}, b.Fragments...)
			cmd := exec.CommandContext(ctx, filepath.Join(b.Src, "scripts/kconfig/merge_config.sh"), args...)
			cmd.Dir = tmp
			cmd.Stdout, cmd.Stderr = logf, logf
			if err := cmd.Run(); err != nil {
				return fail("merge_config.sh", err)
			}
		}
		if err := mk("-s", "olddefconfig"); err != nil {
			return fail("olddefconfig", err)
		}
	}
	opts, err := parseFragments(b.Fragments)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(filepath.Join(tmp, ".config"))
	if err != nil {
		return nil, err
	}
	if err := checkFragments(opts, cfg); err != nil {
		return fail("config", err)
	}
	if sameConfig {
		bl.logf("kbuild: %s: the config of %s kept (same fragments and toolchain; %d options checked)", name, seed.Key, len(opts))
	} else {
		bl.logf("kbuild: %s: configured in %.1f s (%d fragment options checked)", name, t(), len(opts))
	}
	if s.ConfigOnly {
		return b, nil
	}
	ai, _ := lookupArch(b.Arch)
	t = timer()
	bl.logf("kbuild: %s: building Linux %s %s -j%d%s (log %s)", name, b.Version, b.Arch, jobs,
		map[bool]string{true: ", incremental from " + b.Seed}[seed != nil], logPath)
	if err := mk(fmt.Sprintf("-j%d", jobs), ai.target, "modules"); err != nil {
		return fail("make", err)
	}
	if sameConfig {
		cfg, err := readConfig(filepath.Join(tmp, ".config"))
		if err != nil {
			return nil, err
		}
		if err := checkFragments(opts, cfg); err != nil {
			return fail("config (after the build)", err)
		}
	}
	for _, f := range []string{"vmlinux", b.Image, "Module.symvers"} {
		if _, err := os.Stat(filepath.Join(tmp, f)); err != nil {
			return fail("make", fmt.Errorf("the build made no %s", f))
		}
	}
	b.Seconds = total()
	bl.logf("kbuild: %s: built in %.1f s (make %.1f s)", name, b.Seconds, t())
	if err := writeManifest(tmp, b); err != nil {
		return nil, err
	}
	logf.Close()
	if err := os.Rename(tmp, b.Dir); err != nil {
		// another run finished the same key first: use it
		if c, e := readManifest(b.Dir); e == nil {
			return c, nil
		}
		return nil, fmt.Errorf("kbuild: put %s in place: %w", b.Dir, err)
	}
	keep = true
	if err := fixOutput(b.Dir); err != nil {
		return nil, err
	}
	return b, nil
}

// pickSeed prefers the newest cached build of the same source directory
// and config (an earlier state of the same tree), then the given seeds of
// the same source directory and toolchain.
func (bl *Builder) pickSeed(b *Build, seeds []*Build) *Build {
	var best *Build
	var bestTime time.Time
	ents, _ := os.ReadDir(bl.Cache)
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := readManifest(filepath.Join(bl.Cache, e.Name()))
		if err != nil || c.Src != b.Src || c.ConfigKey != b.ConfigKey {
			continue
		}
		st, err := os.Stat(filepath.Join(c.Dir, "kbuild.json"))
		if err == nil && st.ModTime().After(bestTime) {
			best, bestTime = c, st.ModTime()
		}
	}
	if best != nil {
		return best
	}
	for _, s := range seeds {
		if s != nil && s.Src == b.Src && s.Arch == b.Arch && slices.Equal(s.Toolchain, b.Toolchain) {
			return s
		}
	}
	return nil
}

func writeManifest(dir string, b *Build) error {
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "kbuild.json"), append(j, '\n'), 0o644)
}

// readManifest reads a finished build; Dir is where it is now.
func readManifest(dir string) (*Build, error) {
	j, err := os.ReadFile(filepath.Join(dir, "kbuild.json"))
	if err != nil {
		return nil, err
	}
	var b Build
	if err := json.Unmarshal(j, &b); err != nil {
		return nil, fmt.Errorf("%s/kbuild.json: %w", dir, err)
	}
	b.Dir = dir
	if err := fixOutput(dir); err != nil {
		return nil, err
	}
	return &b, nil
}

// fixOutput points the Makefile kbuild generates in an object tree (it
// exports KBUILD_OUTPUT, the absolute O= of the build) at dir, where the
// tree now is: it was built in a temporary directory, or copied.
func fixOutput(dir string) error {
	p := filepath.Join(dir, "Makefile")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil // not a kbuild object tree (a test's fake)
	}
	lines := strings.Split(string(data), "\n")
	changed := false
	for i, l := range lines {
		if strings.HasPrefix(l, "export KBUILD_OUTPUT = ") && l != "export KBUILD_OUTPUT = "+dir {
			lines[i] = "export KBUILD_OUTPUT = " + dir
			changed = true
		}
	}
	if !changed {
		return nil
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Open reads a finished build directory.
func Open(dir string) (*Build, error) { return readManifest(dir) }

// List is every finished build in the cache, newest first.
func (bl *Builder) List() []*Build {
	var out []*Build
	ents, _ := os.ReadDir(bl.Cache)
	for _, e := range ents {
		if c, err := readManifest(filepath.Join(bl.Cache, e.Name())); err == nil && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func timer() func() float64 {
	t := time.Now()
	return func() float64 { return time.Since(t).Seconds() }
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", h[:8])
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "  | " + strings.ReplaceAll(s, "\n", "\n  | ")
}
