// Command builddir prints the kbuild directory of a catalog kernel (its
// headers fetched and merged on first use), for building our test module:
//
//	make -C $(go run ./harness/scenario/cmd/builddir -release 6.12.107) M=$PWD modules
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/btfrecon/btfrecon/harness/kernels"
)

func main() {
	release := flag.String("release", "6.12.107", "catalog release")
	arch := flag.String("arch", "amd64", "architecture (headers exist for amd64)")
	flag.Parse()
	k, err := (&kernels.Fetcher{Progress: os.Stderr}).Get(context.Background(), *release, *arch, true)
	if err == nil {
		var dir string
		if dir, err = k.BuildDir(); err == nil {
			fmt.Println(dir)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "builddir:", err)
	os.Exit(1)
}
