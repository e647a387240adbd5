// Command upstreamrows judges the upstream fix series' kernel rows (make
// upstream-check) from btfrecon's reports of the unpatched and the patched
// 7.2.13 tree (harness/upstream): one line per hostile row of the catalog,
// then "kernel: unpatched K/K reproduce, patched K/K clean". Exit 1 when a
// row does not reproduce, is not clean, or anything else disagrees.
//
//	upstreamrows judge UNPATCHED_DIR PATCHED_DIR   each DIR: validate.json, case-*.json
//	upstreamrows views VALIDATE.json               validate's kernels A and B, as vm run takes them
//	upstreamrows alone                             the labels of the rows booted alone
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/upstream"
)

// record is the catalog's name for upstream 7.2.13 (Debian's build of it).
const record = "7.2.13+deb14"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: upstreamrows judge UNPATCHED_DIR PATCHED_DIR | views VALIDATE.json | alone")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch {
	case args[0] == "judge" && len(args) == 3:
		un, err := upstream.ReadSide("unpatched", args[1])
		if err != nil {
			fmt.Fprintln(stderr, "upstreamrows:", err)
			return 2
		}
		pa, err := upstream.ReadSide("patched", args[2])
		if err != nil {
			fmt.Fprintln(stderr, "upstreamrows:", err)
			return 2
		}
		res := upstream.Judge(un, pa, cases.Module(), record)
		res.Write(stdout)
		if !res.OK() {
			return 1
		}
		return 0
	case args[0] == "views" && len(args) == 2:
		v, err := upstream.ReadValidate(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "upstreamrows:", err)
			return 2
		}
		kb, err := cache.Sub("kbuild")
		if err != nil {
			fmt.Fprintln(stderr, "upstreamrows:", err)
			return 2
		}
		a, b, err := upstream.Views(kb, v)
		if err != nil {
			fmt.Fprintln(stderr, "upstreamrows:", err)
			return 2
		}
		fmt.Fprintln(stdout, a, b)
		return 0
	case args[0] == "alone" && len(args) == 1:
		for _, c := range cases.Select(true, cases.Hostile) {
			fmt.Fprintln(stdout, c.Label())
		}
		return 0
	}
	return usage()
}
