//go:build !lean

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

const kernelsHelp = `usage: btfrecon kernels [list]
       btfrecon kernels fetch RELEASE [--arch amd64|arm64] [--headers]

List the Debian kernels btfrecon knows (pinned in the embedded catalog.tsv,
or resolved from the archive into the cache) and what the cache holds of
each; or fetch one: resolve it if needed, download and extract its packages,
extract its vmlinux BTF, and say where everything is.

RELEASE is X.Y.Z (bookworm, +deb12, the catalog's form) or X.Y.Z+debN
(deb12 bookworm, deb13 trixie, deb14 sid). A release catalog.tsv does not
pin is looked up in the archive's own index on first use (a private apt
configuration under the cache; /etc/apt is never touched) and pinned in
$CACHE/catalog/resolved.tsv; one the archive does not have is refused with
the nearest releases it does have (exit 2).

examples:
  btfrecon kernels
  btfrecon kernels fetch 6.12.111
  btfrecon kernels fetch 6.12.117+deb13 --headers
  btfrecon kernels fetch 7.2.13+deb14 --arch arm64

flags of fetch:
`

func runKernels(e *env, args []string) error {
	fs := newFlags(e, "kernels")
	arch := fs.String("arch", "amd64", "kernel architecture: amd64 or arm64")
	headers := fs.Bool("headers", false, "also fetch linux-headers, -common and linux-kbuild (a kbuild tree, the headers' vmlinux)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, kernelsHelp)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	f := &kernels.Fetcher{Progress: e.stderr}
	switch pos[0] {
	case "list":
		if len(pos) != 1 {
			return usageError{"list takes no arguments"}
		}
		if *headers || *arch != "amd64" {
			return usageError{"--arch and --headers are flags of fetch"}
		}
		return listKernels(e.stdout, f)
	case "fetch":
		if len(pos) != 2 {
			return usageError{"fetch takes one RELEASE, e.g. 6.12.111 or 7.2.13+deb14"}
		}
		if *arch != "amd64" && *arch != "arm64" {
			return usageError{fmt.Sprintf("bad --arch %q (want amd64 or arm64)", *arch)}
		}
		if _, err := vmimages.ParseRelease(pos[1]); err != nil {
			return usageError{err.Error()}
		}
		return fetchKernel(ctx, e.stdout, f, pos[1], *arch, *headers)
	}
	return usageError{fmt.Sprintf("unknown kernels command %q (want list or fetch)", pos[0])}
}

// listKernels prints one row per kernel: where it is pinned and what the
// cache holds of it.
func listKernels(w io.Writer, f *kernels.Fetcher) error {
	all, err := f.List()
	if err != nil {
		return err
	}
	root, err := f.CacheRoot()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tARCH\tSUITE\tCATALOG\tBOOT\tHEADERS\tVMLINUX BTF\tDOWNLOAD")
	for _, l := range all {
		from := "resolved"
		if l.Pinned {
			from = "pinned"
		}
		var size int64
		for _, e := range l.Set.Entries {
			size += e.Size
		}
		btfCol := "-"
		if l.BTF > 0 {
			btfCol = fmt.Sprintf("%d B", l.BTF)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d MB\n", l.Set.Release, l.Set.Arch, l.Set.Suite().Name, from,
			cachedCol(l.Set.Boot(), l.Extracted), cachedCol(l.Set.Headers(), l.Extracted), btfCol, (size+500_000)/1_000_000)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\npinned: %s (embedded); resolved: %s; cache: %s\n", vmimages.CatalogName, kernels.ResolvedPath(root), root)
	fmt.Fprintln(w, "BOOT/HEADERS: cached (extracted), partial, - (not cached), none (not pinned); `btfrecon kernels fetch R` fetches")
	return nil
}

// cachedCol says how much of want is extracted.
func cachedCol(want []vmimages.Entry, extracted []vmimages.Kind) string {
	if len(want) == 0 {
		return "none"
	}
	n := 0
	for _, e := range want {
		for _, k := range extracted {
			if k == e.Kind {
				n++
				break
			}
		}
	}
	switch n {
	case 0:
		return "-"
	case len(want):
		return "cached"
	}
	return "partial"
}

// fetchKernel fetches one kernel and says where its parts are.
func fetchKernel(ctx context.Context, w io.Writer, f *kernels.Fetcher, release, arch string, headers bool) error {
	start := time.Now()
	k, err := f.Get(ctx, release, arch, headers)
	if err != nil {
		return err
	}
	raw, err := k.VmlinuxBTF()
	if err != nil {
		return err
	}
	mods, err := k.Modules()
	if err != nil {
		return err
	}
	vmlinuz, err := k.Vmlinuz()
	if err != nil {
		return err
	}
	cfgPath, err := k.ConfigPath()
	if err != nil {
		return err
	}
	cfg, err := k.Config()
	if err != nil {
		return err
	}
	img := k.Set.Image()
	fmt.Fprintf(w, "%s %s: Debian %s, %s (%s)\n", k.Release, k.Arch, k.Set.Suite().Name, img.String(), img.Where())
	fmt.Fprintf(w, "  vmlinuz      %s\n", vmlinuz)
	fmt.Fprintf(w, "  config       %s\n", cfgPath)
	fmt.Fprintf(w, "  modules      %d .ko.xz under %s\n", len(mods), commonDir(mods))
	types := ""
	if s, err := btf.Parse(raw); err != nil {
		types = "not decoded: " + err.Error()
	} else {
		types = fmt.Sprintf("%d types, hdr_len %d", s.NumLocal(), s.Header().HdrLen)
	}
	fmt.Fprintf(w, "  vmlinux BTF  %d bytes, %s (%s)\n", len(raw), types, k.BTFPath())
	for _, key := range []string{"CONFIG_MODULE_ALLOW_BTF_MISMATCH", "CONFIG_PAHOLE_VERSION"} {
		v, ok := cfg[key]
		if !ok {
			v = "(absent)"
		}
		fmt.Fprintf(w, "  %s=%s\n", key, v)
	}
	if d, ok := k.HeadersDir(); ok {
		fmt.Fprintf(w, "  headers      %s\n", d)
	}
	fmt.Fprintf(w, "  in %.1fs\n", time.Since(start).Seconds())
	return nil
}

// commonDir is the longest directory prefix of paths.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != "/" && dir != "." && !strings.HasPrefix(p, dir+"/") {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}
