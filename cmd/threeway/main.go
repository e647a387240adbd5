// Command threeway runs the three-way differential (Go model, C core, and
// each libbpf oracle: 1.5 and 1.8) on the hand, generated and corpus
// inputs. It prints a line per input class, a line per implementation
// (inputs asked, disagreements with the model), and last "inputs N,
// disagreements M", M counting the inputs on which the C core or any
// oracle disagrees. Exit status 1 when M > 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/threeway"
)

func main() {
	ccore := flag.String("ccore", "", "btfrecon-ccore binary (make ccore)")
	libbpf := flag.String("libbpf", "", "one libbpf oracle binary instead of the cache's (make oracle)")
	versions := flag.String("oracles", "1.5,1.8", "the cache's libbpf oracles to ask, comma-separated versions")
	noLibbpf := flag.Bool("no-libbpf", false, "model vs C core only")
	seeds := flag.Int("seeds", 40, "random seeds")
	per := flag.Int("per-seed", 50, "generated inputs per seed")
	noCorpus := flag.Bool("no-corpus", false, "skip the distro corpus")
	step := flag.Int("corpus-step", 1, "every n-th corpus module")
	from := flag.String("from", "6.12.107", "corpus release (distilled)")
	to := flag.String("to", "6.12.117", "target release")
	flag.Parse()

	cfg := threeway.Config{CCore: *ccore, Seeds: *seeds, GenPerSeed: *per, Corpus: !*noCorpus,
		CorpusStep: *step, CorpusFrom: *from, CorpusTo: *to, MaxReported: 30, Log: os.Stderr}
	switch {
	case *noLibbpf:
	case *libbpf != "":
		cfg.Oracles = []threeway.Oracle{{Name: "libbpf", Path: *libbpf}}
	default:
		for _, v := range strings.Split(*versions, ",") {
			p, err := oracle.Version(strings.TrimSpace(v)).Find()
			if err != nil {
				fmt.Fprintln(os.Stderr, "threeway:", err)
				os.Exit(2)
			}
			cfg.Oracles = append(cfg.Oracles, threeway.Oracle{Name: oracle.Version(strings.TrimSpace(v)).String(), Path: p})
		}
	}
	sum, err := threeway.Run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "threeway:", err)
		os.Exit(2)
	}
	classes := make([]string, 0, len(sum.ByClass))
	for c := range sum.ByClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		v := sum.ByClass[c]
		fmt.Printf("%-8s inputs %6d  refused %6d  disagreements %d\n", c, v[0], v[1], v[2])
	}
	for _, name := range sum.Impls {
		v := sum.ByImpl[name]
		fmt.Printf("%-10s asked %6d  disagreements %d\n", name, v[0], v[1])
	}
	fmt.Printf("inputs %d, disagreements %d\n", sum.Inputs, sum.Disagreements)
	if sum.Disagreements > 0 {
		os.Exit(1)
	}
}
