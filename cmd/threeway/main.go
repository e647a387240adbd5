// Command threeway runs the three-way differential (Go model, C core,
// libbpf) on the hand, generated and corpus inputs; its last line is
// "inputs N, disagreements M". Exit status 1 when M > 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/threeway"
)

func main() {
	ccore := flag.String("ccore", "", "btfrecon-ccore binary (make ccore)")
	libbpf := flag.String("libbpf", "", "libbpf oracle binary (default: the cache's, from make oracle)")
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
	if !*noLibbpf {
		cfg.Libbpf = *libbpf
		if cfg.Libbpf == "" {
			p, err := oracle.Find()
			if err != nil {
				fmt.Fprintln(os.Stderr, "threeway:", err)
				os.Exit(2)
			}
			cfg.Libbpf = p
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
	fmt.Printf("inputs %d, disagreements %d\n", sum.Inputs, sum.Disagreements)
	if sum.Disagreements > 0 {
		os.Exit(1)
	}
}
