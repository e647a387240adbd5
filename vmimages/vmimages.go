// Package vmimages is the catalog of Debian kernel packages btfrecon takes its
// real inputs from: which .deb (name, exact version, sha256) holds which kernel
// release for which architecture. The pinned catalog is the text file
// catalog.tsv, embedded at build time, so a test run and a fetch agree on the
// bytes they expect without any network look-up; releases resolved from the
// archive later are kept in a file of the same format (harness/kernels). It
// also names kernel releases (release.go: "6.12.117", "7.2.13+deb14"), their
// suites, and the packages each suite splits a kernel into. Resolving,
// fetching and extracting live in harness/kernels; this package only
// describes.
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
	// KindImage holds the boot image: linux-image-*-unsigned (vmlinuz,
	// /boot/config-*, the modules) on bookworm and trixie; on sid
	// linux-binary-unsigned-* (usr/lib/modules/<uname>/vmlinuz.unsigned only).
	KindImage Kind = "image"
	// KindModules is sid's linux-modules-*: usr/lib/modules/<uname>/kernel.
	KindModules Kind = "modules"
	// KindLinuxBase is sid's linux-base-<abi>-<arch>: usr/lib/modules/<uname>/
	// config, modules.order, modules.builtin (and a stub System.map).
	KindLinuxBase Kind = "linux-base"
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

var kinds = map[Kind]bool{KindImage: true, KindModules: true, KindLinuxBase: true, KindHeaders: true, KindHeadersCommon: true, KindKbuild: true}

// bootKinds are the kinds a kernel needs to open (boot image, modules,
// config), in the order Set.Boot returns them.
var bootKinds = []Kind{KindImage, KindModules, KindLinuxBase}

// Architectures the catalog may name.
var arches = map[string]bool{"amd64": true, "arm64": true}

// Sentinel errors; the wrapping message names the file and line.
var (
	ErrSyntax  = errors.New("malformed catalog line")
	ErrUnknown = errors.New("kernel not in catalog")
)

// Entry is one catalog line: one .deb.
type Entry struct {
	Release string // canonical kernel release (Release.String), e.g. "6.12.117", "7.2.13+deb14"
	Arch    string // kernel architecture: "amd64" or "arm64"
	Kind    Kind
	Package string // Debian package name
	Version string // exact Debian version, e.g. "6.12.117-1~deb12u1"
	SHA256  string // lower-case hex of the .deb
	Size    int64  // size of the .deb in bytes
	Line    int    // line number in the catalog, for messages
	File    string // the catalog's name, for messages
}

// Where names the catalog line of the entry, e.g. "catalog.tsv:9".
func (e Entry) Where() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

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

// Key names the package's extracted directory: package_version. The
// packages whose name does not say their architecture (linux-kbuild-*) exist
// for amd64 and arm64 under one name: the arm64 one's key ends in _arm64, so
// the two extract side by side (the amd64 key keeps the historical form).
func (e Entry) Key() string {
	k := e.Package + "_" + strings.ReplaceAll(e.Version, ":", "%3a")
	if a := e.DebArch(); a != "all" && a != "amd64" && !strings.Contains(e.Package, "-"+a) {
		k += "_" + a
	}
	return k
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

// Boot returns the packages a kernel needs to open: the image and, on a
// split suite, its modules and linux-base; in that order.
func (s Set) Boot() []Entry {
	var out []Entry
	for _, k := range bootKinds {
		if e, ok := s.Get(k); ok {
			out = append(out, e)
		}
	}
	return out
}

// Suite is the Debian suite of the set's release.
func (s Set) Suite() Suite {
	r, _ := ParseRelease(s.Release)
	return r.Suite()
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
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	versionRE = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Parse reads a catalog. name is used in error messages only. Blank lines and
// lines starting with '#' are ignored; every other line must have exactly
// seven fields. A (release, arch, kind) may appear only once, and so may a
// package, except that the arch-independent headers-common package may be
// listed for amd64 and arm64 alike if both lines agree on version, sha256
// and size.
func Parse(name string, r io.Reader) ([]Entry, error) {
	var out []Entry
	seenKind := map[string]int{}
	seenPkg := map[string]Entry{}
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
		e.Line, e.File = n, name
		k := e.Release + " " + e.Arch + " " + string(e.Kind)
		if prev, ok := seenKind[k]; ok {
			return nil, fmt.Errorf("%s:%d: %w: %s %s %s already listed on line %d", name, n, ErrSyntax, e.Release, e.Arch, e.Kind, prev)
		}
		seenKind[k] = n
		p := e.Package + ":" + e.DebArch()
		if prev, ok := seenPkg[p]; ok {
			shared := e.Kind == KindHeadersCommon && prev.Kind == e.Kind && prev.Release == e.Release &&
				prev.Version == e.Version && prev.SHA256 == e.SHA256 && prev.Size == e.Size
			if !shared {
				return nil, fmt.Errorf("%s:%d: %w: package %s already listed on line %d", name, n, ErrSyntax, e.Package, prev.Line)
			}
		}
		seenPkg[p] = e
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
	rel, err := ParseRelease(e.Release)
	switch {
	case err != nil:
		return Entry{}, fmt.Errorf("bad release %q", e.Release)
	case !arches[e.Arch]:
		return Entry{}, fmt.Errorf("bad arch %q (want amd64 or arm64)", e.Arch)
	case !kinds[e.Kind]:
		return Entry{}, fmt.Errorf("bad kind %q (want image, modules, linux-base, headers, headers-common or kbuild)", e.Kind)
	case !packageRE.MatchString(e.Package):
		return Entry{}, fmt.Errorf("bad package name %q", e.Package)
	case !versionRE.MatchString(e.Version):
		return Entry{}, fmt.Errorf("bad version %q", e.Version)
	case !sha256RE.MatchString(e.SHA256):
		return Entry{}, fmt.Errorf("bad sha256 %q (want 64 lower-case hex digits)", e.SHA256)
	}
	// The version must be of the release it is filed under, so a copy-paste
	// slip between point releases is caught here rather than as a wrong kernel.
	e.Release = rel.String()
	if UpstreamOf(e.Version) != rel.Upstream() {
		return Entry{}, fmt.Errorf("version %q is not of release %s", e.Version, e.Release)
	}
	if !namesABI(e.Package, rel.ABI()) {
		return Entry{}, fmt.Errorf("package %q does not name release %s (ABI %s)", e.Package, e.Release, rel.ABI())
	}
	size, err := strconv.ParseInt(f[6], 10, 64)
	if err != nil || size <= 0 {
		return Entry{}, fmt.Errorf("bad size %q", f[6])
	}
	e.Size = size
	return e, nil
}

// UpstreamOf is the upstream part of a Debian version: "6.12.117" of
// "6.12.117-1~deb12u1" (no epoch, no Debian revision).
func UpstreamOf(version string) string {
	if _, rest, ok := strings.Cut(version, ":"); ok {
		version = rest
	}
	if i := strings.LastIndexByte(version, '-'); i >= 0 {
		version = version[:i]
	}
	return version
}

// namesABI reports whether pkg carries the ABI name as a whole component:
// "linux-image-6.12.115+deb13-amd64" names 6.12.115+deb13, but
// "linux-image-6.12.115+deb13.1-amd64" does not.
func namesABI(pkg, abi string) bool {
	for i := 0; ; {
		j := strings.Index(pkg[i:], abi)
		if j < 0 {
			return false
		}
		end := i + j + len(abi)
		if (i+j == 0 || pkg[i+j-1] == '-') && (end == len(pkg) || pkg[end] == '-') {
			return true
		}
		i = end
	}
}

// Catalog is a parsed catalog file.
type Catalog struct {
	Name    string // file name, for messages
	Entries []Entry
}

// NewCatalog parses a catalog (see Parse).
func NewCatalog(name string, r io.Reader) (*Catalog, error) {
	entries, err := Parse(name, r)
	if err != nil {
		return nil, err
	}
	return &Catalog{Name: name, Entries: entries}, nil
}

var pinned *Catalog

func init() {
	var err error
	pinned, err = NewCatalog(CatalogName, bytes.NewReader(catalogTSV))
	if err != nil {
		// The catalog is compiled in; a broken one must fail every test at once.
		panic(err)
	}
}

// Pinned returns the embedded catalog: the kernels CI uses.
func Pinned() *Catalog { return &Catalog{Name: pinned.Name, Entries: All()} }

// All returns every entry of the embedded catalog, in file order.
func All() []Entry { return append([]Entry(nil), pinned.Entries...) }

// Lookup returns the embedded catalog's packages for one kernel; release
// may be either form of the name ("6.12.117", "6.12.117+deb12"). It fails
// with ErrUnknown unless the catalog has an image for (release, arch).
func Lookup(release, arch string) (Set, error) { return pinned.Lookup(release, arch) }

// Has reports whether the catalog has an image for (release, arch).
func (c *Catalog) Has(release, arch string) bool {
	_, err := c.Lookup(release, arch)
	return err == nil
}

// Lookup returns the packages for one kernel (see the package Lookup).
func (c *Catalog) Lookup(release, arch string) (Set, error) {
	name, err := Canonical(release)
	if err != nil {
		return Set{}, err
	}
	s := Set{Release: name, Arch: arch}
	for _, e := range c.Entries {
		if e.Release == name && e.Arch == arch {
			s.Entries = append(s.Entries, e)
		}
	}
	if _, ok := s.Get(KindImage); !ok {
		list := "nothing"
		if k := c.Kernels(); len(k) > 0 {
			list = strings.Join(k, ", ")
		}
		return Set{}, fmt.Errorf("%s %s: %w (%s lists: %s)", name, arch, ErrUnknown, c.Name, list)
	}
	return s, nil
}

// Sets returns every (release, arch) with an image, in Kernels order.
func (c *Catalog) Sets() []Set {
	var out []Set
	for _, k := range c.Kernels() {
		rel, arch, _ := strings.Cut(k, "/")
		s, _ := c.Lookup(rel, arch)
		out = append(out, s)
	}
	return out
}

// Kernels lists every "release/arch" of the catalog with an image, sorted
// by release (suite, then version), then arch.
func (c *Catalog) Kernels() []string {
	type k struct {
		r    Release
		arch string
	}
	var ks []k
	for _, e := range c.Entries {
		if e.Kind == KindImage {
			r, _ := ParseRelease(e.Release)
			ks = append(ks, k{r, e.Arch})
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if c := ks[i].r.Compare(ks[j].r); c != 0 {
			return c < 0
		}
		return ks[i].arch < ks[j].arch
	})
	out := make([]string, len(ks))
	for i, x := range ks {
		out[i] = x.r.String() + "/" + x.arch
	}
	return out
}

// Kernels lists every "release/arch" of the embedded catalog (see
// Catalog.Kernels).
func Kernels() []string { return pinned.Kernels() }

// Format writes entries as catalog lines (tab-separated, in the given order).
func Format(w io.Writer, entries []Entry) error {
	for _, e := range entries {
		if _, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", e.Release, e.Arch, e.Kind, e.Package, e.Version, e.SHA256, e.Size); err != nil {
			return err
		}
	}
	return nil
}
