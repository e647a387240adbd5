// Package vmimages is the catalog of Debian kernel packages btfrecon takes its
// real inputs from: which .deb (name, exact version, sha256) holds which kernel
// release for which architecture. The catalog is the text file catalog.tsv,
// embedded at build time, so a test run and a fetch agree on the bytes they
// expect without any network look-up. Fetching and extracting live in
// harness/kernels; this package only describes.
package vmimages

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed catalog.tsv
var catalogTSV []byte

// CatalogName is the file name errors use for the embedded catalog.
const CatalogName = "catalog.tsv"

// Kind says what a package contributes to a kernel.
type Kind string

const (
	// KindImage is linux-image-*-unsigned: vmlinuz, /boot/config-*, modules.
	KindImage Kind = "image"
	// KindHeaders is linux-headers-*-<arch>: the arch part of the kbuild tree,
	// including a vmlinux ELF whose .BTF equals the image's.
	KindHeaders Kind = "headers"
	// KindHeadersCommon is linux-headers-*-common: the arch-independent
	// headers the KindHeaders Makefile includes by absolute path.
	KindHeadersCommon Kind = "headers-common"
	// KindKbuild is linux-kbuild-*: host tools (scripts/, tools/) the headers
	// tree links to; needed to build out-of-tree modules.
	KindKbuild Kind = "kbuild"
)

var kinds = map[Kind]bool{KindImage: true, KindHeaders: true, KindHeadersCommon: true, KindKbuild: true}

// Architectures the catalog may name.
var arches = map[string]bool{"amd64": true, "arm64": true}

// Sentinel errors; the wrapping message names the file and line.
var (
	ErrSyntax  = errors.New("malformed catalog line")
	ErrUnknown = errors.New("kernel not in catalog")
)

// Entry is one catalog line: one .deb.
type Entry struct {
	Release string // upstream kernel release, e.g. "6.12.117"
	Arch    string // kernel architecture: "amd64" or "arm64"
	Kind    Kind
	Package string // Debian package name
	Version string // exact Debian version, e.g. "6.12.117-1~deb12u1"
	SHA256  string // lower-case hex of the .deb
	Size    int64  // size of the .deb in bytes
	Line    int    // line number in the catalog, for messages
}

// DebArch is the Debian architecture of the .deb itself: "all" for the
// arch-independent headers, else Arch.
func (e Entry) DebArch() string {
	if e.Kind == KindHeadersCommon {
		return "all"
	}
	return e.Arch
}

// AptSpec is the argument for `apt-get download`: name:arch=version. The arch
// qualifier matters for foreign packages (arm64 on an amd64 host) and is
// harmless for native ones.
func (e Entry) AptSpec() string {
	return e.Package + ":" + e.DebArch() + "=" + e.Version
}

// DebFile is the file name apt-get download gives the package
// (an epoch's ':' is written as %3a).
func (e Entry) DebFile() string {
	return e.Package + "_" + strings.ReplaceAll(e.Version, ":", "%3a") + "_" + e.DebArch() + ".deb"
}

// Key names the package's extracted directory: package_version.
func (e Entry) Key() string {
	return e.Package + "_" + strings.ReplaceAll(e.Version, ":", "%3a")
}

func (e Entry) String() string { return e.Package + "=" + e.Version }

// Set is every package the catalog lists for one (release, arch).
type Set struct {
	Release, Arch string
	Entries       []Entry // in catalog order
}

// Get returns the entry of the given kind.
func (s Set) Get(k Kind) (Entry, bool) {
	for _, e := range s.Entries {
		if e.Kind == k {
			return e, true
		}
	}
	return Entry{}, false
}

// Image returns the image entry; every Set from Lookup has one.
func (s Set) Image() Entry {
	e, _ := s.Get(KindImage)
	return e
}

// Headers returns the packages needed for a usable headers tree (headers,
// headers-common, kbuild), in that order, or nil if the catalog has no headers
// for this kernel.
func (s Set) Headers() []Entry {
	var out []Entry
	for _, k := range []Kind{KindHeaders, KindHeadersCommon, KindKbuild} {
		if e, ok := s.Get(k); ok {
			out = append(out, e)
		}
	}
	return out
}

var (
	releaseRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	versionRE = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Parse reads a catalog. name is used in error messages only. Blank lines and
// lines starting with '#' are ignored; every other line must have exactly
// seven fields. A (release, arch, kind) or package name may appear only once.
func Parse(name string, r io.Reader) ([]Entry, error) {
	var out []Entry
	seenKind := map[string]int{}
	seenPkg := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w: %s", name, n, ErrSyntax, err)
		}
		e.Line = n
		k := e.Release + " " + e.Arch + " " + string(e.Kind)
		if prev, ok := seenKind[k]; ok {
			return nil, fmt.Errorf("%s:%d: %w: %s %s %s already listed on line %d", name, n, ErrSyntax, e.Release, e.Arch, e.Kind, prev)
		}
		seenKind[k] = n
		p := e.Package + ":" + e.DebArch()
		if prev, ok := seenPkg[p]; ok {
			return nil, fmt.Errorf("%s:%d: %w: package %s already listed on line %d", name, n, ErrSyntax, e.Package, prev)
		}
		seenPkg[p] = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func parseLine(line string) (Entry, error) {
	f := strings.Fields(line)
	if len(f) != 7 {
		return Entry{}, fmt.Errorf("want 7 fields (release arch kind package version sha256 size), got %d", len(f))
	}
	e := Entry{Release: f[0], Arch: f[1], Kind: Kind(f[2]), Package: f[3], Version: f[4], SHA256: f[5]}
	switch {
	case !releaseRE.MatchString(e.Release):
		return Entry{}, fmt.Errorf("bad release %q", e.Release)
	case !arches[e.Arch]:
		return Entry{}, fmt.Errorf("bad arch %q (want amd64 or arm64)", e.Arch)
	case !kinds[e.Kind]:
		return Entry{}, fmt.Errorf("bad kind %q (want image, headers, headers-common or kbuild)", e.Kind)
	case !packageRE.MatchString(e.Package):
		return Entry{}, fmt.Errorf("bad package name %q", e.Package)
	case !versionRE.MatchString(e.Version):
		return Entry{}, fmt.Errorf("bad version %q", e.Version)
	case !sha256RE.MatchString(e.SHA256):
		return Entry{}, fmt.Errorf("bad sha256 %q (want 64 lower-case hex digits)", e.SHA256)
	}
	// The version must be of the release it is filed under, so a copy-paste
	// slip between point releases is caught here rather than as a wrong kernel.
	v := e.Version
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest // drop an epoch
	}
	if up, _, _ := strings.Cut(v, "-"); up != e.Release {
		return Entry{}, fmt.Errorf("version %q is not of release %s", e.Version, e.Release)
	}
	if !strings.Contains(e.Package, e.Release) {
		return Entry{}, fmt.Errorf("package %q does not name release %s", e.Package, e.Release)
	}
	size, err := strconv.ParseInt(f[6], 10, 64)
	if err != nil || size <= 0 {
		return Entry{}, fmt.Errorf("bad size %q", f[6])
	}
	e.Size = size
	return e, nil
}

var catalog []Entry

func init() {
	var err error
	catalog, err = Parse(CatalogName, bytes.NewReader(catalogTSV))
	if err != nil {
		// The catalog is compiled in; a broken one must fail every test at once.
		panic(err)
	}
}

// All returns every catalog entry, in file order.
func All() []Entry { return append([]Entry(nil), catalog...) }

// Lookup returns the packages for one kernel. It fails with ErrUnknown unless
// the catalog has an image for (release, arch).
func Lookup(release, arch string) (Set, error) {
	return lookupIn(catalog, release, arch)
}

func lookupIn(entries []Entry, release, arch string) (Set, error) {
	s := Set{Release: release, Arch: arch}
	for _, e := range entries {
		if e.Release == release && e.Arch == arch {
			s.Entries = append(s.Entries, e)
		}
	}
	if _, ok := s.Get(KindImage); !ok {
		return Set{}, fmt.Errorf("%s %s: %w (%s lists: %s)", release, arch, ErrUnknown, CatalogName, strings.Join(Kernels(), ", "))
	}
	return s, nil
}

// Kernels lists every "release/arch" with an image, sorted.
func Kernels() []string {
	var out []string
	for _, e := range catalog {
		if e.Kind == KindImage {
			out = append(out, e.Release+"/"+e.Arch)
		}
	}
	sort.Strings(out)
	return out
}
