// Package kernels turns catalog entries (package vmimages) into files on
// disk: it downloads the .debs with apt-get, checks them against the
// catalog's sha256, extracts them into the cache, and gives typed access to
// what a kernel package holds: vmlinuz, the raw vmlinux BTF, the modules and
// the build config.
//
// Cache layout (under cache.Dir()):
//
//	debs/<package>_<version>_<debarch>.deb    verified downloads
//	kernels/<package>_<version>/              one extracted package (dpkg-deb -x)
//	kernels/<package>_<version>/.btfrecon-complete
//	btf/<release>-<arch>/vmlinux.btf          raw vmlinux BTF, as /sys/kernel/btf/vmlinux
//
// Everything is written under a temporary name and renamed into place, so a
// reader never sees a half-written file or a half-extracted tree, and an
// interrupted run simply redoes its step.
package kernels

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/vmimages"
)

// CompleteMarker is the file inside an extracted package directory that says
// the extraction finished. It holds the sha256 of the .deb it came from.
const CompleteMarker = ".btfrecon-complete"

// Sentinel errors, wrapped with the file (and offset) they concern.
var (
	ErrChecksum  = errors.New("sha256 mismatch")
	ErrNotCached = errors.New("not in the cache")
)

// Fetcher downloads and extracts catalog entries. The zero value uses the
// default cache directory, apt-get, and no progress output.
type Fetcher struct {
	// CacheDir overrides cache.Dir().
	CacheDir string
	// Progress receives one line per step; nil discards.
	Progress io.Writer
	// Download puts the .deb for e into dir (and nothing else). nil means
	// `apt-get download` run in dir. Tests substitute a fake.
	Download func(ctx context.Context, e vmimages.Entry, dir string) error
}

// Fetch makes sure e is extracted in the default cache and returns the
// extracted directory (the root of the package's file tree).
func Fetch(ctx context.Context, e vmimages.Entry, progress io.Writer) (dir string, err error) {
	return (&Fetcher{Progress: progress}).Fetch(ctx, e)
}

func (f *Fetcher) cacheDir() (string, error) {
	if f.CacheDir != "" {
		return f.CacheDir, os.MkdirAll(f.CacheDir, 0o755)
	}
	return cache.Dir()
}

func (f *Fetcher) logf(format string, args ...any) {
	if f.Progress != nil {
		fmt.Fprintf(f.Progress, format+"\n", args...)
	}
}

// ExtractedDir returns where e is (or would be) extracted under cacheDir.
func ExtractedDir(cacheDir string, e vmimages.Entry) string {
	return filepath.Join(cacheDir, "kernels", e.Key())
}

// Extracted reports whether e's extracted tree is complete under cacheDir.
// It never touches the network.
func Extracted(cacheDir string, e vmimages.Entry) bool {
	b, err := os.ReadFile(filepath.Join(ExtractedDir(cacheDir, e), CompleteMarker))
	return err == nil && strings.TrimSpace(string(b)) == e.SHA256
}

// Fetch makes sure e is extracted and returns the extracted directory. A
// complete extraction is returned at once: no download, no checksum, no
// extraction.
func (f *Fetcher) Fetch(ctx context.Context, e vmimages.Entry) (string, error) {
	root, err := f.cacheDir()
	if err != nil {
		return "", err
	}
	dst := ExtractedDir(root, e)
	if Extracted(root, e) {
		return dst, nil
	}
	deb, err := f.fetchDeb(ctx, root, e)
	if err != nil {
		return "", err
	}
	if err := f.extract(ctx, root, e, deb, dst); err != nil {
		return "", err
	}
	return dst, nil
}

// fetchDeb returns the path of a verified .deb for e, downloading it if it is
// missing or fails the checksum. A mismatch is retried once with a fresh
// download: a truncated earlier download heals itself, a catalog that disagrees
// with the mirror does not loop.
func (f *Fetcher) fetchDeb(ctx context.Context, root string, e vmimages.Entry) (string, error) {
	debs := filepath.Join(root, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(debs, e.DebFile())
	if _, err := os.Stat(path); err == nil {
		f.logf("verify %s", filepath.Base(path))
		err := verify(path, e)
		if err == nil {
			return path, nil
		}
		f.logf("  %v: removing it", err)
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		f.logf("fetch %s (%d MB)", e, (e.Size+500_000)/1_000_000)
		start := time.Now()
		if err := f.download(ctx, debs, e, path); err != nil {
			return "", err
		}
		f.logf("  downloaded in %.1fs", time.Since(start).Seconds())
		f.logf("verify %s", filepath.Base(path))
		lastErr = verify(path, e)
		if lastErr == nil {
			return path, nil
		}
		f.logf("  %v: removing it", lastErr)
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	return "", lastErr
}

// download fetches e into a private directory under debs and renames the one
// .deb it finds there to path, so concurrent fetches and interrupted downloads
// never leave a partial file under the final name.
func (f *Fetcher) download(ctx context.Context, debs string, e vmimages.Entry, path string) error {
	tmp, err := os.MkdirTemp(debs, ".download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dl := f.Download
	if dl == nil {
		dl = aptDownload
	}
	if err := dl(ctx, e, tmp); err != nil {
		return fmt.Errorf("download %s: %w", e, err)
	}
	got, err := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("download %s: want one .deb in %s, found %d", e, tmp, len(got))
	}
	return os.Rename(got[0], path)
}

// aptDownload runs `apt-get download name:arch=version` in dir. apt's output
// is kept for the error message only.
func aptDownload(ctx context.Context, e vmimages.Entry, dir string) error {
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", e.AptSpec())
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		hint := ""
		if strings.Contains(out.String(), "Unable to locate") || strings.Contains(out.String(), "not found") || strings.Contains(out.String(), "Can't select") {
			hint = " (run apt-get update; for arm64 first dpkg --add-architecture arm64)"
		}
		return fmt.Errorf("apt-get download %s: %w%s\n%s", e.AptSpec(), err, hint, strings.TrimSpace(out.String()))
	}
	return nil
}

// verify checks path against e's catalog sha256.
func verify(path string, e vmimages.Entry) error {
	got, err := fileSHA256(path)
	if err != nil {
		return err
	}
	if got != e.SHA256 {
		return fmt.Errorf("%s: %w: got %s, catalog line %d says %s", path, ErrChecksum, got, e.Line, e.SHA256)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	fd, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fd.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fd); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extract unpacks deb into a temporary sibling of dst, writes the marker, and
// renames the tree into place.
func (f *Fetcher) extract(ctx context.Context, root string, e vmimages.Entry, deb, dst string) error {
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	// A directory without a valid marker is left over from an older layout or
	// a manual edit: it is not trusted.
	if _, err := os.Stat(dst); err == nil && !Extracted(root, e) {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(parent, ".extract-"+e.Key()+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f.logf("extract %s -> %s", filepath.Base(deb), dst)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dpkg-deb -x %s: %w\n%s", deb, err, strings.TrimSpace(out.String()))
	}
	// dpkg-deb gives the root the package's mode for "./"; make sure we can
	// still rename and later remove it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, CompleteMarker), []byte(e.SHA256+"\n"), 0o644); err != nil {
		return err
	}
	f.logf("  extracted in %.1fs", time.Since(start).Seconds())
	if err := os.Rename(tmp, dst); err != nil {
		// Someone else finished the same extraction first: use theirs.
		if Extracted(root, e) {
			return nil
		}
		return fmt.Errorf("extract %s: %w", e, err)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fd, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(fd.Name())
	if _, err := fd.Write(data); err != nil {
		fd.Close()
		return err
	}
	if err := fd.Close(); err != nil {
		return err
	}
	if err := os.Chmod(fd.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(fd.Name(), path)
}

// AptPrepare makes apt able to download entries that still need a download:
// if `apt-cache show` does not know one of them, it adds a missing foreign
// architecture (dpkg --add-architecture) and runs apt-get update, once. When
// every entry is already extracted or its .deb cached it does nothing, so a
// warm cache never touches apt or the network.
func (f *Fetcher) AptPrepare(ctx context.Context, entries []vmimages.Entry) error {
	root, err := f.cacheDir()
	if err != nil {
		return err
	}
	var unknown []vmimages.Entry
	for _, e := range entries {
		if Extracted(root, e) {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "debs", e.DebFile())); err == nil {
			continue
		}
		if !aptKnows(ctx, e) {
			unknown = append(unknown, e)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	native, err := output(ctx, "dpkg", "--print-architecture")
	if err != nil {
		return err
	}
	foreign, err := output(ctx, "dpkg", "--print-foreign-architectures")
	if err != nil {
		return err
	}
	have := map[string]bool{native: true}
	for _, a := range strings.Fields(foreign) {
		have[a] = true
	}
	for _, e := range unknown {
		if a := e.DebArch(); a != "all" && !have[a] {
			f.logf("dpkg --add-architecture %s", a)
			if _, err := output(ctx, "dpkg", "--add-architecture", a); err != nil {
				return err
			}
			have[a] = true
		}
	}
	f.logf("apt-get update (apt does not know %s)", unknown[0].AptSpec())
	if _, err := output(ctx, "apt-get", "update", "-q"); err != nil {
		return err
	}
	return nil
}

// aptKnows reports whether apt's lists hold exactly e. apt-cache show exits 0
// with no output for an unknown version, so the output is checked.
func aptKnows(ctx context.Context, e vmimages.Entry) bool {
	out, err := exec.CommandContext(ctx, "apt-cache", "show", "-q", e.AptSpec()).Output()
	return err == nil && bytes.Contains(out, []byte("\nVersion: "+e.Version+"\n"))
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()+out.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
