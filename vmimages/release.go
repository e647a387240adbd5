package vmimages

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrRelease is a kernel name that is not a Debian kernel release.
var ErrRelease = errors.New("bad kernel release")

// Suite is a Debian suite whose kernels btfrecon knows: where the archive
// publishes them and how its kernel packages are named.
type Suite struct {
	Name string // codename: "bookworm", "trixie", "sid"
	Deb  int    // N of the "+debN" in its kernels' ABI names
	// Dists are the archive distributions holding its kernels, in
	// sources.list order: archive ("debian" or "debian-security") and dist.
	Dists []Dist
	// Split is Debian's split kernel packaging (sid, Linux 7.x): the boot
	// image in linux-binary-unsigned-*, the modules in linux-modules-*, the
	// config in linux-base-*; linux-image-* is only a metapackage over them.
	Split bool
}

// Dist is one distribution of an archive, e.g. {"debian-security", "bookworm-security"}.
type Dist struct{ Archive, Name string }

// suites is every suite, by its Deb number.
var suites = []Suite{
	{Name: "bookworm", Deb: 12, Dists: []Dist{{"debian", "bookworm"}, {"debian", "bookworm-updates"}, {"debian-security", "bookworm-security"}}},
	{Name: "trixie", Deb: 13, Dists: []Dist{{"debian", "trixie"}, {"debian", "trixie-updates"}, {"debian-security", "trixie-security"}}},
	{Name: "sid", Deb: 14, Dists: []Dist{{"debian", "sid"}}, Split: true},
}

// Suites returns every suite btfrecon knows, oldest first.
func Suites() []Suite { return append([]Suite(nil), suites...) }

// SuiteByName returns the suite with codename name.
func SuiteByName(name string) (Suite, bool) {
	for _, s := range suites {
		if s.Name == name {
			return s, true
		}
	}
	return Suite{}, false
}

func suiteByDeb(n int) (Suite, bool) {
	for _, s := range suites {
		if s.Deb == n {
			return s, true
		}
	}
	return Suite{}, false
}

func suiteList() string {
	var l []string
	for _, s := range suites {
		l = append(l, fmt.Sprintf("deb%d %s", s.Deb, s.Name))
	}
	return strings.Join(l, ", ")
}

// Release is a Debian kernel release: an upstream version and the Debian
// suite it was built for, as in the ABI name "6.12.117+deb13".
type Release struct {
	Major, Minor, Patch int
	Deb                 int // 12, 13 or 14: the suite
	// Rev is the M of an ABI name "+debN.M" (trixie's 6.12.115+deb13.1: an
	// ABI bump within one upstream version); 0 for none.
	Rev int
}

var releaseRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,4})(?:\+deb([1-9][0-9]{0,2})(?:\.([1-9][0-9]{0,2}))?)?$`)

// ParseRelease reads a kernel name: "X.Y.Z" (bookworm, "+deb12", the form
// the catalog has always used) or "X.Y.Z+debN" (deb12 bookworm, deb13
// trixie, deb14 sid), optionally with an ABI revision "+debN.M".
func ParseRelease(s string) (Release, error) {
	m := releaseRE.FindStringSubmatch(s)
	if m == nil {
		return Release{}, fmt.Errorf("%w %q: want X.Y.Z or X.Y.Z+debN (%s)", ErrRelease, s, suiteList())
	}
	var r Release
	r.Major, _ = strconv.Atoi(m[1])
	r.Minor, _ = strconv.Atoi(m[2])
	r.Patch, _ = strconv.Atoi(m[3])
	r.Deb = 12
	if m[4] != "" {
		r.Deb, _ = strconv.Atoi(m[4])
		if _, ok := suiteByDeb(r.Deb); !ok {
			return Release{}, fmt.Errorf("%w %q: deb%s is not a suite btfrecon knows (%s)", ErrRelease, s, m[4], suiteList())
		}
	}
	if m[5] != "" {
		r.Rev, _ = strconv.Atoi(m[5])
	}
	return r, nil
}

// Upstream is the kernel.org version, e.g. "6.12.117".
func (r Release) Upstream() string { return fmt.Sprintf("%d.%d.%d", r.Major, r.Minor, r.Patch) }

// ABI is the Debian ABI name packages carry, e.g. "6.12.117+deb12".
func (r Release) ABI() string {
	s := fmt.Sprintf("%s+deb%d", r.Upstream(), r.Deb)
	if r.Rev != 0 {
		s += "." + strconv.Itoa(r.Rev)
	}
	return s
}

// String is the canonical name: "X.Y.Z" for bookworm (as the catalog and
// the cache layout have always had it), else the ABI name.
func (r Release) String() string {
	if r.Deb == 12 && r.Rev == 0 {
		return r.Upstream()
	}
	return r.ABI()
}

// Suite is the Debian suite the release belongs to.
func (r Release) Suite() Suite {
	s, _ := suiteByDeb(r.Deb)
	return s
}

// Compare orders releases by suite, then upstream version, then ABI
// revision: -1, 0 or +1.
func (r Release) Compare(o Release) int {
	for _, d := range [][2]int{{r.Deb, o.Deb}, {r.Major, o.Major}, {r.Minor, o.Minor}, {r.Patch, o.Patch}, {r.Rev, o.Rev}} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return 1
		}
	}
	return 0
}

// Canonical returns the canonical name of a kernel name ("6.12.117+deb12"
// gives "6.12.117"), or an ErrRelease.
func Canonical(name string) (string, error) {
	r, err := ParseRelease(name)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// Want is one package a kernel needs, as the archive names it.
type Want struct {
	Kind    Kind
	Package string
	DebArch string // "all" for headers-common, else the kernel's arch
	// Optional packages (the headers kinds) are pinned when the archive
	// has them; a kernel opens without them.
	Optional bool
}

// Spec is the apt argument for the package in any version: name:arch.
func (w Want) Spec() string { return w.Package + ":" + w.DebArch }

// Packages lists every package of the release for arch on its suite, the
// boot packages first.
func (r Release) Packages(arch string) []Want {
	abi := r.ABI()
	var out []Want
	if r.Suite().Split {
		out = []Want{
			{Kind: KindImage, Package: "linux-binary-unsigned-" + abi + "-" + arch, DebArch: arch},
			{Kind: KindModules, Package: "linux-modules-" + abi + "-" + arch, DebArch: arch},
			{Kind: KindLinuxBase, Package: "linux-base-" + abi + "-" + arch, DebArch: arch},
		}
	} else {
		out = []Want{{Kind: KindImage, Package: "linux-image-" + abi + "-" + arch + "-unsigned", DebArch: arch}}
	}
	return append(out,
		Want{Kind: KindHeaders, Package: "linux-headers-" + abi + "-" + arch, DebArch: arch, Optional: true},
		Want{Kind: KindHeadersCommon, Package: "linux-headers-" + abi + "-common", DebArch: "all", Optional: true},
		Want{Kind: KindKbuild, Package: "linux-kbuild-" + abi, DebArch: arch, Optional: true},
	)
}

// ImagePattern is an apt-cache search regular expression matching the
// image package of every release of suite s for arch.
func (s Suite) ImagePattern(arch string) string {
	prefix, suffix := s.imageAffixes(arch)
	return "^" + regexp.QuoteMeta(prefix) + `[0-9]+\.[0-9]+\.[0-9]+\+deb` + strconv.Itoa(s.Deb) + `(\.[0-9]+)?` + regexp.QuoteMeta(suffix) + "$"
}

func (s Suite) imageAffixes(arch string) (prefix, suffix string) {
	if s.Split {
		return "linux-binary-unsigned-", "-" + arch
	}
	return "linux-image-", "-" + arch + "-unsigned"
}

// ReleaseOfImage returns the release whose image package for arch on suite
// s is named pkg.
func (s Suite) ReleaseOfImage(pkg, arch string) (Release, bool) {
	prefix, suffix := s.imageAffixes(arch)
	abi, ok := strings.CutPrefix(pkg, prefix)
	if !ok {
		return Release{}, false
	}
	if abi, ok = strings.CutSuffix(abi, suffix); !ok || !strings.Contains(abi, "+deb") {
		return Release{}, false
	}
	r, err := ParseRelease(abi)
	if err != nil || r.Deb != s.Deb || r.ABI() != abi {
		return Release{}, false
	}
	return r, true
}
