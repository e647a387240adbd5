// Command builddir prints the kbuild directory of a catalog kernel (its
// headers fetched and merged on first use), for building our test module:
//
//	make -C $(go run ./cmd/builddir -release 6.12.107) M=$PWD modules
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
	"flag"
	"fmt"
	"os"
	"runtime"

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
	dir, err := cache.Dir()
	if err != nil {
		return "", err
	}
	return kernels.MergeBuildTree(dir, "build-"+release+"-"+arch+"-cross-"+host, arch, pkgs)
}
