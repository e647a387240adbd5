package kbuild

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNotKernelTree is a --tree that is neither a kernel source directory
// nor a tarball of one.
var ErrNotKernelTree = errors.New("not a kernel source tree")

// Tree is a kernel source as a build sees it.
type Tree struct {
	Dir     string // the source directory make runs in (-C)
	Hash    string // content hash (of the tarball, or of the files)
	Version string // VERSION.PATCHLEVEL.SUBLEVEL from the top Makefile
	From    string // what was given: a directory or a tarball path
}

// Major and minor of the tree's version (0, 0 when unreadable).
func (t Tree) MajorMinor() (int, int) {
	var a, b int
	fmt.Sscanf(t.Version, "%d.%d", &a, &b)
	return a, b
}

// checkKernelTree names the first thing a kernel tree must have that dir
// lacks, and reads its version.
func checkKernelTree(dir, karch string) (string, error) {
	for _, p := range []string{"Makefile", "Kconfig", "scripts/kconfig/merge_config.sh",
		"kernel/bpf", "arch/" + karch + "/Kconfig"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return "", fmt.Errorf("%w: %s has no %s", ErrNotKernelTree, dir, p)
		}
	}
	f, err := os.Open(filepath.Join(dir, "Makefile"))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotKernelTree, err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan() && i < 20; i++ {
		k, val, ok := strings.Cut(sc.Text(), "=")
		if ok {
			v[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	if v["VERSION"] == "" || v["PATCHLEVEL"] == "" {
		return "", fmt.Errorf("%w: %s/Makefile sets no VERSION and PATCHLEVEL in its first lines",
			ErrNotKernelTree, dir)
	}
	ver := v["VERSION"] + "." + v["PATCHLEVEL"]
	if s := v["SUBLEVEL"]; s != "" {
		ver += "." + s
	}
	return ver, nil
}

// isTarball tells a source tarball from a directory by name.
func isTarball(p string) bool {
	for _, s := range []string{".tar", ".tar.xz", ".tar.gz", ".tgz", ".tar.bz2", ".tar.zst"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// openTree resolves from (a directory or a tarball) to a Tree. A tarball
// is hashed and extracted once under srcCache/<hash>; a directory is built
// in place (its path stays the same between runs, which is what lets a
// rebuild after an edit be incremental) and hashed by content, with the
// per-file sums kept under statCache.
func openTree(from, karch, srcCache, statCache string, logf func(string, ...any)) (Tree, error) {
	abs, err := filepath.Abs(from)
	if err != nil {
		return Tree{}, fmt.Errorf("%w: %v", ErrNotKernelTree, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Tree{}, fmt.Errorf("%w: %v", ErrNotKernelTree, err)
	}
	if st.IsDir() {
		ver, err := checkKernelTree(abs, karch)
		if err != nil {
			return Tree{}, err
		}
		t := timer()
		h, n, err := hashTree(abs, filepath.Join(statCache, shortHash(abs)+".gob"))
		if err != nil {
			return Tree{}, err
		}
		logf("kbuild: tree %s: Linux %s, content hashed in %.1f s (%d files read)", abs, ver, t(), n)
		return Tree{Dir: abs, Hash: h, Version: ver, From: abs}, nil
	}
	if !isTarball(abs) {
		return Tree{}, fmt.Errorf("%w: %s is a file but not a tarball (.tar, .tar.xz, ...)", ErrNotKernelTree, abs)
	}
	t := timer()
	sum, err := fileSum(abs)
	if err != nil {
		return Tree{}, fmt.Errorf("hash %s: %w", abs, err)
	}
	h := fmt.Sprintf("%x", sum)
	dir := filepath.Join(srcCache, h[:16])
	logf("kbuild: tarball %s hashed in %.1f s", abs, t())
	if _, err := os.Stat(filepath.Join(dir, ".extracted")); err != nil {
		if err := extract(abs, dir, logf); err != nil {
			return Tree{}, err
		}
	}
	top, err := os.ReadFile(filepath.Join(dir, ".extracted"))
	if err != nil {
		return Tree{}, err
	}
	src := filepath.Join(dir, strings.TrimSpace(string(top)))
	ver, err := checkKernelTree(src, karch)
	if err != nil {
		return Tree{}, fmt.Errorf("tarball %s: %w", abs, err)
	}
	logf("kbuild: tree %s: Linux %s (from %s)", src, ver, abs)
	return Tree{Dir: src, Hash: h, Version: ver, From: abs}, nil
}

// extract unpacks a tarball into dir through a temporary directory; dir
// then holds one top directory and .extracted naming it.
func extract(tarball, dir string, logf func(string, ...any)) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	t := timer()
	if out, err := exec.Command("tar", "-xf", tarball, "-C", tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("extract %s: %w: %s", tarball, err, lastLines(string(out), 5))
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	if len(ents) != 1 || !ents[0].IsDir() {
		return fmt.Errorf("%w: %s holds %d top-level entries, want one directory", ErrNotKernelTree, tarball, len(ents))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".extracted"), []byte(ents[0].Name()+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dir) // a partial one from a crash without .extracted
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	logf("kbuild: extracted %s in %.1f s", tarball, t())
	return nil
}
