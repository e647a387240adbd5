// Command fetchkernels fills the btfrecon cache with kernels: it downloads
// and extracts the packages (see harness/kernels) and writes each kernel's
// raw vmlinux BTF. Releases are X.Y.Z (bookworm) or X.Y.Z+debN (deb12
// bookworm, deb13 trixie, deb14 sid); one the embedded catalog does not pin
// is resolved from the Debian archive first. `make testdata` runs it; a
// second run with a warm cache touches neither apt nor the network.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

func main() {
	arch := flag.String("arch", "amd64", "kernel architecture: amd64 or arm64")
	releases := flag.String("releases", "6.12.107,6.12.117", "comma-separated releases, X.Y.Z or X.Y.Z+debN (\"all\": every pinned release for -arch)")
	headers := flag.Bool("headers", false, "also fetch linux-headers, -common and linux-kbuild")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *arch, *releases, *headers); err != nil {
		fmt.Fprintln(os.Stderr, "fetchkernels:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, arch, releases string, headers bool) error {
	var rels []string
	if releases == "all" {
		for _, k := range vmimages.Kernels() {
			if r, a, _ := strings.Cut(k, "/"); a == arch {
				rels = append(rels, r)
			}
		}
	} else {
		for _, r := range strings.Split(releases, ",") {
			if _, err := vmimages.ParseRelease(r); err != nil {
				return err
			}
			rels = append(rels, r)
		}
	}
	f := &kernels.Fetcher{Progress: os.Stdout}
	for _, r := range rels {
		start := time.Now()
		k, err := f.Get(ctx, r, arch, headers)
		if err != nil {
			return err
		}
		btf, err := k.VmlinuxBTF()
		if err != nil {
			return err
		}
		mods, err := k.Modules()
		if err != nil {
			return err
		}
		if headers {
			dir, err := k.BuildDir()
			if err != nil {
				return err
			}
			fmt.Printf("%s: kbuild tree %s\n", k, dir)
		}
		fmt.Printf("%s: vmlinux BTF %d bytes (%s), %d modules, %.1fs\n", k, len(btf), k.BTFPath(), len(mods), time.Since(start).Seconds())
	}
	return nil
}
