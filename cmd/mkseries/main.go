// Command mkseries writes the generated patches of kernel-patch/series/
// from their sources: series/0001 is the C core (kernel-patch/core/) as new
// files under kernel/bpf/, with its commit message and build hunks kept in
// kernel-patch/series-src/. `make series` runs it; with -check it only
// says whether the committed patch is what it would write (make
// patch-check).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	kp := flag.String("kp", "kernel-patch", "the kernel-patch directory")
	check := flag.Bool("check", false, "only compare with the committed patch; exit 1 if it is stale")
	flag.Parse()
	want, err := generate(*kp, patch1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkseries:", err)
		os.Exit(2)
	}
	out := filepath.Join(*kp, patch1.out)
	have, err := os.ReadFile(out)
	if err == nil && bytes.Equal(have, want) {
		fmt.Printf("mkseries: %s is up to date\n", out)
		return
	}
	if *check {
		fmt.Fprintln(os.Stderr, "series/0001 is stale: run make series")
		os.Exit(1)
	}
	// write beside, then rename: never a torn patch
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, want, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkseries:", err)
		os.Exit(2)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		fmt.Fprintln(os.Stderr, "mkseries:", err)
		os.Exit(2)
	}
	fmt.Printf("mkseries: wrote %s\n", out)
}
