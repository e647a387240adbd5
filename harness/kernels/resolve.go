package kernels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/btfrecon/btfrecon/vmimages"
)

// ErrNotInArchive is a kernel release the Debian archive does not have.
var ErrNotInArchive = errors.New("not in the Debian archive")

// ResolvedName is the file name of the resolved catalog under
// $CACHE/catalog/: releases resolved from the archive on first use, in
// catalog.tsv's format.
const ResolvedName = "resolved.tsv"

// nearestN is how many releases on each side of a missing one its error
// lists.
const nearestN = 3

// ResolvedPath is the resolved catalog of cacheDir.
func ResolvedPath(cacheDir string) string { return filepath.Join(cacheDir, "catalog", ResolvedName) }

// LoadResolved reads the resolved catalog of cacheDir; a missing file is an
// empty catalog.
func LoadResolved(cacheDir string) (*vmimages.Catalog, error) {
	p := ResolvedPath(cacheDir)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &vmimages.Catalog{Name: p}, nil
	}
	if err != nil {
		return nil, err
	}
	return vmimages.NewCatalog(p, bytes.NewReader(b))
}

// LookupIn returns the packages of (release, arch) from the pinned catalog,
// else from cacheDir's resolved catalog. It never touches the network: a
// release neither has is vmimages.ErrUnknown.
func LookupIn(cacheDir, release, arch string) (vmimages.Set, error) {
	pinned := vmimages.Pinned()
	set, err := pinned.Lookup(release, arch)
	if err == nil || !errors.Is(err, vmimages.ErrUnknown) {
		return set, err
	}
	resolved, rerr := LoadResolved(cacheDir)
	if rerr != nil {
		return vmimages.Set{}, rerr
	}
	if set, err := resolved.Lookup(release, arch); err == nil {
		return set, nil
	}
	name, _ := vmimages.Canonical(release)
	return vmimages.Set{}, fmt.Errorf("%s %s: %w (%s pins %s; %s does not have it: `btfrecon kernels fetch %s --arch %s` resolves it from the Debian archive)",
		name, arch, vmimages.ErrUnknown, vmimages.CatalogName, strings.Join(pinned.Kernels(), ", "), resolved.Name, name, arch)
}

// Lookup returns the packages of (release, arch): pinned, already resolved,
// or resolved from the archive now (see Resolve).
func (f *Fetcher) Lookup(ctx context.Context, release, arch string) (vmimages.Set, error) {
	root, err := f.cacheDir()
	if err != nil {
		return vmimages.Set{}, err
	}
	set, err := LookupIn(root, release, arch)
	if errors.Is(err, vmimages.ErrUnknown) {
		return f.Resolve(ctx, release, arch)
	}
	return set, err
}

// Resolve looks every package of (release, arch) up in the archive's own
// index through the suite's private apt configuration (name, version,
// sha256, size), pins them in the resolved catalog and says so in one
// progress line. The boot packages (image, and on sid modules and
// linux-base) must all exist; the headers packages are pinned when the
// archive has all three. A release the archive does not have is
// ErrNotInArchive, naming the nearest releases of the same suite it does
// have. The lists are updated first when missing, and once more when a
// look-up misses on lists older than a few minutes.
func (f *Fetcher) Resolve(ctx context.Context, release, arch string) (vmimages.Set, error) {
	rel, err := vmimages.ParseRelease(release)
	if err != nil {
		return vmimages.Set{}, err
	}
	if !archOK(arch) {
		return vmimages.Set{}, fmt.Errorf("%s: bad arch %q (want amd64 or arm64)", rel, arch)
	}
	root, err := f.cacheDir()
	if err != nil {
		return vmimages.Set{}, err
	}
	start := time.Now()
	suite := rel.Suite()
	a, err := f.apt(root, suite)
	if err != nil {
		return vmimages.Set{}, err
	}
	if err := a.ensureLists(ctx); err != nil {
		return vmimages.Set{}, err
	}
	wants := rel.Packages(arch)
	specs := make([]string, len(wants))
	for i, w := range wants {
		specs[i] = w.Spec()
	}
	var found []IndexEntry
	var missing []vmimages.Want
	for try := 0; ; try++ {
		idx, err := a.show(ctx, specs)
		if err != nil {
			return vmimages.Set{}, err
		}
		found, missing = MatchIndex(wants, idx)
		if len(missing) == 0 || try > 0 || !a.stale() {
			break
		}
		if err := a.update(ctx, "no "+missing[0].Spec()+" in the lists"); err != nil {
			return vmimages.Set{}, err
		}
	}
	if len(missing) > 0 {
		return vmimages.Set{}, f.notInArchive(ctx, a, rel, arch, missing)
	}
	entries, err := resolvedEntries(rel, arch, wants, found)
	if err != nil {
		return vmimages.Set{}, err
	}
	if err := pinResolved(root, entries); err != nil {
		return vmimages.Set{}, err
	}
	set, err := LookupIn(root, rel.String(), arch)
	if err != nil {
		return vmimages.Set{}, err
	}
	var total int64
	var kinds []string
	for _, e := range set.Entries {
		total += e.Size
		kinds = append(kinds, string(e.Kind))
	}
	img := set.Image()
	f.logf("resolved %s %s from Debian %s: %s=%s and %d more (%s; %s) pinned in %s (%.1fs)",
		set.Release, arch, suite.Name, img.Package, img.Version, len(set.Entries)-1, strings.Join(kinds, ", "),
		sizeString(total), ResolvedPath(root), time.Since(start).Seconds())
	return set, nil
}

func archOK(arch string) bool {
	for _, a := range aptArches {
		if a == arch {
			return true
		}
	}
	return false
}

// MatchIndex pairs each wanted package with its index stanza (same name,
// same Debian architecture; the first such stanza, apt's candidate). It
// returns the stanzas of the packages found, in wants order, and the
// packages that are missing: every required one the index lacks, and the
// optional ones too when the boot packages are complete but only part of
// the headers set is there (a headers tree needs all three, so a partial
// one is not pinned).
func MatchIndex(wants []vmimages.Want, idx []IndexEntry) (found []IndexEntry, missing []vmimages.Want) {
	var optFound []IndexEntry
	optMissing := 0
	for _, w := range wants {
		var hit *IndexEntry
		for i := range idx {
			if idx[i].Package == w.Package && idx[i].Architecture == w.DebArch {
				hit = &idx[i]
				break
			}
		}
		switch {
		case hit != nil && w.Optional:
			optFound = append(optFound, *hit)
		case hit != nil:
			found = append(found, *hit)
		case w.Optional:
			optMissing++
		default:
			missing = append(missing, w)
		}
	}
	if optMissing == 0 {
		found = append(found, optFound...)
	}
	return found, missing
}

// resolvedEntries turns matched stanzas into catalog entries, checked as
// any catalog line is (version of the release, package naming its ABI).
func resolvedEntries(rel vmimages.Release, arch string, wants []vmimages.Want, found []IndexEntry) ([]vmimages.Entry, error) {
	kind := map[string]vmimages.Kind{}
	for _, w := range wants {
		kind[w.Package] = w.Kind
	}
	var entries []vmimages.Entry
	for _, ie := range found {
		entries = append(entries, vmimages.Entry{Release: rel.String(), Arch: arch, Kind: kind[ie.Package], Package: ie.Package,
			Version: ie.Version, SHA256: ie.SHA256, Size: ie.Size})
	}
	var b bytes.Buffer
	if err := vmimages.Format(&b, entries); err != nil {
		return nil, err
	}
	checked, err := vmimages.Parse("archive index of "+rel.String()+" "+arch, &b)
	if err != nil {
		return nil, err
	}
	return checked, nil
}

// resolvedHeader starts every resolved catalog file.
const resolvedHeader = `# btfrecon: kernel releases resolved from the Debian archive on first use
# (harness/kernels writes this file; catalog.tsv's format:
#   release  arch  kind  package  version  sha256  size).
# Delete a release's lines to resolve it again.
`

// pinResolved adds entries to the resolved catalog, replacing what it had
// for the same (release, arch): read, merge, write to a temporary file and
// rename, under a lock, so concurrent resolutions keep each other's lines.
func pinResolved(cacheDir string, entries []vmimages.Entry) error {
	p := ResolvedPath(cacheDir)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	fd, err := os.OpenFile(p+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer fd.Close()
	if err := unix.Flock(int(fd.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", fd.Name(), err)
	}
	old, err := LoadResolved(cacheDir)
	if err != nil {
		return err
	}
	replace := map[string]bool{}
	for _, e := range entries {
		replace[e.Release+"/"+e.Arch] = true
	}
	var all []vmimages.Entry
	for _, e := range old.Entries {
		if !replace[e.Release+"/"+e.Arch] {
			all = append(all, e)
		}
	}
	all = append(all, entries...)
	var b bytes.Buffer
	b.WriteString(resolvedHeader)
	if err := vmimages.Format(&b, all); err != nil {
		return err
	}
	if _, err := vmimages.Parse(p, bytes.NewReader(b.Bytes())); err != nil {
		return fmt.Errorf("resolved catalog would not parse: %w", err)
	}
	return writeFileAtomic(p, b.Bytes())
}

// notInArchive explains a missing release: which package the archive
// lacks and the nearest releases of the suite it has.
func (f *Fetcher) notInArchive(ctx context.Context, a *privateApt, rel vmimages.Release, arch string, missing []vmimages.Want) error {
	var names []string
	for _, w := range missing {
		names = append(names, w.Spec())
	}
	suite := rel.Suite()
	if missing[0].Kind != vmimages.KindImage {
		return fmt.Errorf("%s %s: %w: Debian %s has its image but no %s", rel, arch, ErrNotInArchive, suite.Name, strings.Join(names, ", "))
	}
	pkgs, err := a.search(ctx, suite.ImagePattern(arch))
	if err != nil {
		return fmt.Errorf("%s %s: %w: Debian %s has no %s (and listing its releases failed: %v)", rel, arch, ErrNotInArchive, suite.Name, strings.Join(names, ", "), err)
	}
	have := ReleasesOfImages(suite, arch, pkgs)
	if len(have) == 0 {
		return fmt.Errorf("%s %s: %w: Debian %s has no %s kernel images (%s)", rel, arch, ErrNotInArchive, suite.Name, arch, suite.ImagePattern(arch))
	}
	var near []string
	for _, r := range Nearest(rel, have, nearestN) {
		near = append(near, r.String())
	}
	span := "its only one"
	if len(have) > 1 {
		span = fmt.Sprintf("of %d, %s ... %s", len(have), have[0], have[len(have)-1])
	}
	return fmt.Errorf("%s %s: %w: Debian %s has no %s; nearest %s releases it has: %s (%s)",
		rel, arch, ErrNotInArchive, suite.Name, missing[0].Package, suite.Name, strings.Join(near, ", "), span)
}

// ReleasesOfImages returns the releases whose image packages for arch on
// suite are among pkgs, sorted, without duplicates.
func ReleasesOfImages(suite vmimages.Suite, arch string, pkgs []string) []vmimages.Release {
	seen := map[vmimages.Release]bool{}
	var out []vmimages.Release
	for _, p := range pkgs {
		if r, ok := suite.ReleaseOfImage(p, arch); ok && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}

// Nearest returns up to n releases of have (sorted) just below want and up
// to n just above it, in order; want itself is left out.
func Nearest(want vmimages.Release, have []vmimages.Release, n int) []vmimages.Release {
	i := sort.Search(len(have), func(i int) bool { return have[i].Compare(want) >= 0 })
	j := i
	for j < len(have) && have[j].Compare(want) == 0 {
		j++
	}
	out := append([]vmimages.Release(nil), have[max(0, i-n):i]...)
	return append(out, have[j:min(len(have), j+n)]...)
}
