// Package kernels turns kernel releases into files on disk. A release is
// pinned in the embedded catalog (package vmimages) or resolved from the
// Debian archive on first use (resolve.go: the archive's own index through a
// private apt configuration, apt.go, pinned in the cache); its .debs are
// downloaded with apt-get, checked against the pinned sha256, extracted into
// the cache, and Kernel gives typed access to what the packages hold:
// vmlinuz, the raw vmlinux BTF, the modules and the build config, whatever
// the suite's package layout (bookworm and trixie: one image package; sid:
// linux-binary-unsigned, linux-modules, linux-base).
//
// Cache layout (under cache.Dir()):
//
//	catalog/resolved.tsv                      releases resolved from the archive (catalog.tsv's format)
//	apt/<suite>/                              private apt configuration and lists (apt.go)
//	debs/<package>_<version>_<debarch>.deb    verified downloads
//	kernels/<package>_<version>/              one extracted package (dpkg-deb -x)
//	kernels/<package>_<version>/.btfrecon-complete
//	btf/<release>-<arch>/vmlinux.btf          raw vmlinux BTF, as /sys/kernel/btf/vmlinux
//
// Everything is written under a temporary name and renamed into place, so a
// reader never sees a half-written file or a half-extracted tree, and an
// interrupted run simply redoes its step (apt-get download restarts a
// download; it does not resume one).
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

// Fetcher resolves releases and downloads and extracts their packages. The
// zero value uses the default cache directory, the private apt
// configurations on Debian's mirror, and no progress output. A Fetcher is
// not safe for concurrent use; separate Fetchers (and processes) on one
// cache are.
type Fetcher struct {
	// CacheDir overrides cache.Dir().
	CacheDir string
	// Progress receives one line per step; nil discards.
	Progress io.Writer
	// Download puts the .deb for e into dir (and nothing else). nil means
	// `apt-get download` with the suite's private apt configuration, run in
	// dir. Tests substitute a fake.
	Download func(ctx context.Context, e vmimages.Entry, dir string) error
	// Mirror and Keyring override DefaultMirror and DefaultKeyring.
	Mirror, Keyring string
	// Run runs apt-get and apt-cache; nil runs them. Tests substitute
	// recorded answers.
	Run RunFunc

	apts map[string]*privateApt
}

// apt returns the private apt configuration of suite under cacheDir.
func (f *Fetcher) apt(cacheDir string, suite vmimages.Suite) (*privateApt, error) {
	if a, ok := f.apts[suite.Name]; ok {
		return a, nil
	}
	a := &privateApt{dir: filepath.Join(cacheDir, "apt", suite.Name), suite: suite, mirror: f.Mirror, keyring: f.Keyring, run: f.Run, logf: f.logf}
	if a.mirror == "" {
		a.mirror = DefaultMirror
	}
	if !strings.HasSuffix(a.mirror, "/") {
		a.mirror += "/"
	}
	if a.keyring == "" {
		a.keyring = DefaultKeyring
	}
	if err := a.setup(); err != nil {
		return nil, err
	}
	if f.apts == nil {
		f.apts = map[string]*privateApt{}
	}
	f.apts[suite.Name] = a
	return a, nil
}

// aptFor returns the private apt configuration of e's suite.
func (f *Fetcher) aptFor(root string, e vmimages.Entry) (*privateApt, error) {
	rel, err := vmimages.ParseRelease(e.Release)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", e, e.Where(), err)
	}
	return f.apt(root, rel.Suite())
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
	removeStale(debs, ".download-")
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
		f.logf("fetch %s (%s)", e, sizeString(e.Size))
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
		dl = func(ctx context.Context, e vmimages.Entry, dir string) error { return f.aptDownload(ctx, e, dir) }
	}
	if err := dl(ctx, e, tmp); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: %w (the partial download is removed; run again to restart it)", e, ctx.Err())
		}
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

// aptDownload runs `apt-get download name:arch=version` in dir with the
// suite's private apt configuration: lists are fetched first when missing,
// and updated once when apt does not know the version (lists older than the
// entry's pin). apt's output is kept for the error message only.
func (f *Fetcher) aptDownload(ctx context.Context, e vmimages.Entry, dir string) error {
	root, err := f.cacheDir()
	if err != nil {
		return err
	}
	a, err := f.aptFor(root, e)
	if err != nil {
		return err
	}
	if err := a.ensureLists(ctx); err != nil {
		return err
	}
	err = a.download(ctx, e.AptSpec(), dir)
	if err != nil && aptMiss(err) && a.stale() {
		if uerr := a.update(ctx, "apt does not know "+e.AptSpec()); uerr != nil {
			return uerr
		}
		err = a.download(ctx, e.AptSpec(), dir)
	}
	if err != nil && aptMiss(err) {
		return fmt.Errorf("%w (pinned at %s: the archive no longer has this version?)", err, e.Where())
	}
	return err
}

// aptMiss reports whether apt's error says it does not know the package or
// version (as opposed to a network or disk failure).
func aptMiss(err error) bool {
	s := err.Error()
	for _, m := range []string{"Unable to locate", "Can't find a source", "was not found", "Can't select", "No packages found"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// removeStale removes temporary entries (prefix*) of dir older than a day:
// left by a process that was killed before its own clean-up.
func removeStale(dir, prefix string) {
	m, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, p := range m {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
			os.RemoveAll(p)
		}
	}
}

// verify checks path against e's catalog sha256.
func verify(path string, e vmimages.Entry) error {
	got, err := fileSHA256(path)
	if err != nil {
		return err
	}
	if got != e.SHA256 {
		return fmt.Errorf("%s: %w: got %s, %s says %s", path, ErrChecksum, got, e.Where(), e.SHA256)
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

// sizeString is a download size for progress lines: "107 MB", "469 kB".
func sizeString(n int64) string {
	if n < 1_000_000 {
		return fmt.Sprintf("%d kB", (n+500)/1000)
	}
	return fmt.Sprintf("%d MB", (n+500_000)/1_000_000)
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

// AptPrepare makes the private apt configurations able to download the
// entries that still need a download: their lists are fetched when missing,
// and updated once if they do not know one of the entries' exact versions.
// When every entry is already extracted or its .deb cached it does nothing,
// so a warm cache never touches apt or the network. The machine's apt is
// not used: no dpkg --add-architecture, no /etc/apt change.
func (f *Fetcher) AptPrepare(ctx context.Context, entries []vmimages.Entry) error {
	root, err := f.cacheDir()
	if err != nil {
		return err
	}
	bySuite := map[*privateApt][]vmimages.Entry{}
	var order []*privateApt
	for _, e := range entries {
		if Extracted(root, e) {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "debs", e.DebFile())); err == nil {
			continue
		}
		a, err := f.aptFor(root, e)
		if err != nil {
			return err
		}
		if _, ok := bySuite[a]; !ok {
			order = append(order, a)
		}
		bySuite[a] = append(bySuite[a], e)
	}
	for _, a := range order {
		if err := a.ensureLists(ctx); err != nil {
			return err
		}
		want := bySuite[a]
		specs := make([]string, len(want))
		for i, e := range want {
			specs[i] = e.AptSpec()
		}
		idx, err := a.show(ctx, specs)
		if err != nil {
			return err
		}
		if e, ok := firstUnknown(want, idx); ok && a.stale() {
			if err := a.update(ctx, "apt does not know "+e.AptSpec()); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstUnknown returns the first entry whose exact version the index lacks.
func firstUnknown(entries []vmimages.Entry, idx []IndexEntry) (vmimages.Entry, bool) {
	for _, e := range entries {
		known := false
		for _, ie := range idx {
			if ie.Package == e.Package && ie.Version == e.Version && ie.Architecture == e.DebArch() {
				known = true
				break
			}
		}
		if !known {
			return e, true
		}
	}
	return vmimages.Entry{}, false
}
