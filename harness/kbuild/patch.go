package kbuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrPatch is a patch that does not apply.
var ErrPatch = errors.New("patch does not apply")

// patchDiff is the part of a patch that changes the tree: from its first
// diff header to the end, without a format-patch signature. Rewording a
// commit message then keeps the key, and so the cached build.
func patchDiff(b []byte) []byte {
	i := bytes.Index(b, []byte("\ndiff --git "))
	if i < 0 {
		i = bytes.Index(b, []byte("\n--- "))
	}
	if i < 0 {
		if bytes.HasPrefix(b, []byte("diff ")) || bytes.HasPrefix(b, []byte("--- ")) {
			i = -1
		} else {
			return nil
		}
	}
	d := b[i+1:]
	if j := bytes.LastIndex(d, []byte("\n-- \n")); j >= 0 {
		d = d[:j+1]
	}
	return d
}

var hunkFailed = regexp.MustCompile(`^Hunk #\d+ FAILED at \d+`)

// applyPatches copies src to a temporary directory beside dst, applies
// each patch there with patch -p1 and renames the result to dst; on
// failure nothing is left. A patch with no diff (a cover letter) is
// skipped.
func applyPatches(src, dst string, patches []string, logf func(string, ...any)) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".tmp-patched-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	t := timer()
	tree := filepath.Join(tmp, filepath.Base(src))
	// cp -a keeps mtimes: files the patches leave alone look old to make
	if out, err := exec.Command("cp", "-a", src, tree).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %w: %s", src, err, lastLines(string(out), 5))
	}
	applied := 0
	for _, p := range patches {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPatch, err)
		}
		if patchDiff(b) == nil {
			logf("kbuild: %s: no diff (a cover letter?), skipped", filepath.Base(p))
			continue
		}
		// patch runs in the copy: a path relative to our directory must not
		// be read relative to the tree
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPatch, err)
		}
		cmd := exec.Command("patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-r", "-", "-i", abs)
		cmd.Dir = tree
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s: %s", ErrPatch, p, failedHunks(string(out)))
		}
		applied++
	}
	if err := os.WriteFile(filepath.Join(tmp, ".extracted"), []byte(filepath.Base(src)+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	logf("kbuild: %d patches applied on a copy in %.1f s (%s)", applied, t(), dst)
	return nil
}

// failedHunks says which file and hunk patch refused, from its output.
func failedHunks(out string) string {
	var file string
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if f, ok := strings.CutPrefix(l, "patching file "); ok {
			file = strings.Trim(f, "'")
		}
		if m := hunkFailed.FindString(l); m != "" {
			bad = append(bad, file+": "+m)
		}
		if strings.HasPrefix(l, "Reversed (or previously applied) patch detected") {
			bad = append(bad, file+": already applied (reversed patch detected)")
		}
		if strings.Contains(l, "can't find file to patch") || strings.Contains(l, "No file to patch") {
			bad = append(bad, "a file it patches does not exist in the tree")
		}
	}
	if len(bad) == 0 {
		return lastLines(out, 5)
	}
	return strings.Join(bad, "; ")
}

// patchesKey hashes the patches' diffs in order.
func patchesKey(patches []string) (string, error) {
	h := sha256.New()
	for _, p := range patches {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrPatch, err)
		}
		d := patchDiff(b)
		fmt.Fprintf(h, "patch %d\x00", len(d))
		h.Write(d)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
