package modbuild

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

// baseInclude is what DKMS would have besides the kernel's headers: a C
// compiler, make, pahole (dwarves) and libelf.
var baseInclude = []string{"gcc", "make", "dwarves", "libelf-dev"}

// crossInclude is the suite's cross compiler for a kernel arch that is not
// the host's (amd64): Debian's headers name $(CROSS_COMPILE)gcc-N themselves
// (.kernelvariables).
var crossInclude = map[string][]string{"arm64": {"gcc-aarch64-linux-gnu"}}

// SpecFor is the chroot spec for building modules for k (amd64 host): its
// suite, baseInclude, what k's three headers packages depend on (from their
// control files, as apt would install), and those packages from the cache.
// The headers must be fetched (kernels.Fetcher.Get with headers). For a
// kernel of another arch (a cross build), hostKbuild is the same release's
// amd64 linux-kbuild, fetched: kbuild's tools (fixdep, modpost,
// resolve_btfids) run on the host, and k's own linux-kbuild is built for k's
// arch; Debian's headers take them from /usr/lib/linux-kbuild-R either way.
func SpecFor(k *kernels.Kernel, hostKbuild *vmimages.Entry) (ChrootSpec, error) {
	suite := k.Set.Suite()
	if suite.Name == "" {
		return ChrootSpec{}, fmt.Errorf("%s: no Debian suite for release %s", k, k.Release)
	}
	pkgs := k.Set.Headers()
	if len(pkgs) != 3 {
		return ChrootSpec{}, fmt.Errorf("%s: %w: the catalog lists %d of its 3 headers packages (linux-headers-R-ARCH, -common, linux-kbuild-R); btfrecon kernels fetch %s --arch %s --headers",
			k, ErrNoHeaders, len(pkgs), k.Release, k.Arch)
	}
	spec := ChrootSpec{Suite: suite.Name, Include: append([]string(nil), baseInclude...)}
	names := map[string]bool{}
	if k.Arch != "amd64" {
		if hostKbuild == nil || hostKbuild.Arch != "amd64" || hostKbuild.Kind != vmimages.KindKbuild {
			return ChrootSpec{}, fmt.Errorf("%s: a cross build needs the amd64 linux-kbuild of %s", k, k.Release)
		}
		for i, e := range pkgs {
			if e.Kind == vmimages.KindKbuild {
				pkgs[i] = *hostKbuild
			}
		}
	}
	for _, e := range pkgs {
		names[e.Package] = true
	}
	for _, e := range pkgs {
		d := Deb{Path: filepath.Join(k.CacheDir(), "debs", e.DebFile()), SHA256: e.SHA256}
		spec.Debs = append(spec.Debs, d)
		deps, err := debDepends(d.Path)
		if err != nil {
			return ChrootSpec{}, err
		}
		spec.Include = append(spec.Include, suiteDeps(deps, names)...)
	}
	if k.Arch != "amd64" {
		cross, ok := crossInclude[k.Arch]
		if !ok {
			return ChrootSpec{}, fmt.Errorf("%s: no cross compiler known for %s", k, k.Arch)
		}
		spec.Include = append(spec.Include, cross...)
		spec.ForeignArch = k.Arch
	}
	return spec, nil
}

// ErrNoHeaders: the kernel's headers packages are not known or not cached.
var ErrNoHeaders = fmt.Errorf("no headers for this kernel")

// debDepends is a .deb's Depends field.
func debDepends(deb string) (string, error) {
	out, err := exec.Command("dpkg-deb", "-f", deb, "Depends").Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = ": " + strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("dpkg-deb -f %s Depends: %w%s", deb, err, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

// bootPackage matches the kernel's own boot packages a headers package may
// depend on (linux-image-R-ARCH, sid's linux-binary-*, linux-base-R-ARCH):
// they are not needed to build modules and are not installed (dpkg
// --force-depends).
var bootPackage = regexp.MustCompile(`^(linux-image-|linux-binary-|linux-base-[0-9])`)

// suiteDeps turns a Depends field into the packages to take from the suite:
// the first alternative of each group, unless a group is satisfied by one of
// the .debs installed from files (have) or names a boot package.
func suiteDeps(depends string, have map[string]bool) []string {
	var out []string
	for group := range strings.SplitSeq(depends, ",") {
		var alts []string
		skip := false
		for alt := range strings.SplitSeq(group, "|") {
			name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			name, _, _ = strings.Cut(name, ":")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if have[name] || bootPackage.MatchString(name) {
				skip = true
			}
			alts = append(alts, name)
		}
		if !skip && len(alts) > 0 {
			out = append(out, alts[0])
		}
	}
	return out
}
