// Command builddir prints the kbuild directory of a catalog kernel (its
// headers fetched and merged on first use), for building our test module:
//
//	make -C $(go run ./harness/scenario/cmd/builddir -release 6.12.107) M=$PWD modules
//
// With -arch arm64 on an amd64 host it assembles a cross-build tree: the
// catalog's linux-headers-<release>-arm64 (the arm64 part: .config,
// Module.symvers, arch/arm64, the vmlinux pahole needs for split BTF), plus
// the amd64 set's linux-headers-<release>-common (architecture-independent,
// "all" on the mirror, so the catalog lists it once) and linux-kbuild (host
// tools: fixdep, modpost, resolve_btfids run on the host, not the target).
// Build with ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

func main() {
	release := flag.String("release", "6.12.107", "catalog release")
	arch := flag.String("arch", "amd64", "architecture of the kernel to build for (amd64, or arm64 cross-built on an amd64 host)")
	flag.Parse()
	dir, err := buildDir(context.Background(), *release, *arch)
	if err != nil {
		fmt.Fprintln(os.Stderr, "builddir:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}

func buildDir(ctx context.Context, release, arch string) (string, error) {
	f := &kernels.Fetcher{Progress: os.Stderr}
	host := runtime.GOARCH
	if arch == host {
		k, err := f.Get(ctx, release, arch, true)
		if err != nil {
			return "", err
		}
		return k.BuildDir()
	}
	target, err := vmimages.Lookup(release, arch)
	if err != nil {
		return "", err
	}
	hostSet, err := vmimages.Lookup(release, host)
	if err != nil {
		return "", fmt.Errorf("cross build for %s: the host tools come from the %s set: %w", arch, host, err)
	}
	hdr, ok := target.Get(vmimages.KindHeaders)
	if !ok {
		return "", fmt.Errorf("%s %s: no headers line in %s", release, arch, vmimages.CatalogName)
	}
	common, ok1 := hostSet.Get(vmimages.KindHeadersCommon)
	kbuild, ok2 := hostSet.Get(vmimages.KindKbuild)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("%s %s: want headers-common and kbuild lines in %s", release, host, vmimages.CatalogName)
	}
	pkgs := []vmimages.Entry{hdr, common, kbuild}
	for _, e := range pkgs {
		if err := f.AptPrepare(ctx, []vmimages.Entry{e}); err != nil {
			return "", err
		}
		if _, err := f.Fetch(ctx, e); err != nil {
			return "", err
		}
	}
	root, err := cache.Sub("kernels")
	if err != nil {
		return "", err
	}
	return merge(root, "build-"+release+"-"+arch+"-cross-"+host, arch, pkgs)
}

// merge copies the extracted packages into one root (they reach each other
// by /usr/src and ../../lib paths) and points the headers Makefile's
// absolute include into it. Done once, atomically; the marker holds the
// packages' sha256s so a catalog change rebuilds.
func merge(parent, name, arch string, pkgs []vmimages.Entry) (string, error) {
	root := filepath.Join(parent, name)
	var sums []string
	for _, e := range pkgs {
		sums = append(sums, e.SHA256)
	}
	marker := strings.Join(sums, " ") + "\n"
	find := func(r string) (string, error) {
		m, _ := filepath.Glob(filepath.Join(r, "usr", "src", "linux-headers-*-"+arch))
		if len(m) != 1 {
			return "", fmt.Errorf("%s: want one usr/src/linux-headers-*-%s, found %d", r, arch, len(m))
		}
		return m[0], nil
	}
	if b, err := os.ReadFile(filepath.Join(root, kernels.CompleteMarker)); err == nil && string(b) == marker {
		return find(root)
	}
	tmp, err := os.MkdirTemp(parent, "."+name+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cacheRoot := filepath.Dir(parent)
	for _, e := range pkgs {
		if !kernels.Extracted(cacheRoot, e) {
			return "", fmt.Errorf("%s: %w", e, kernels.ErrNotCached)
		}
		src := kernels.ExtractedDir(cacheRoot, e) + "/."
		if out, err := exec.Command("cp", "-a", src, tmp).CombinedOutput(); err != nil {
			return "", fmt.Errorf("cp -a %s %s: %w\n%s", src, tmp, err, out)
		}
	}
	os.Remove(filepath.Join(tmp, kernels.CompleteMarker))
	dir, err := find(tmp)
	if err != nil {
		return "", err
	}
	mk := filepath.Join(dir, "Makefile")
	b, err := os.ReadFile(mk)
	if err != nil {
		return "", err
	}
	fixed := strings.ReplaceAll(string(b), "include /usr/src/", "include "+filepath.Join(root, "usr", "src")+"/")
	if fixed == string(b) {
		return "", errors.New(mk + `: no "include /usr/src/" to redirect`)
	}
	if err := os.WriteFile(mk, []byte(fixed), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, kernels.CompleteMarker), []byte(marker), 0o644); err != nil {
		return "", err
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, root); err != nil {
		return "", err
	}
	return find(root)
}
