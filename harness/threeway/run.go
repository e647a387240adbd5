package threeway

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Oracle is one libbpf oracle driver: a report name ("libbpf 1.5") and
// its binary.
type Oracle struct {
	Name, Path string
}

// Config says which implementations run and which inputs they get.
type Config struct {
	CCore   string   // btfrecon-ccore path
	Oracles []Oracle // the libbpf oracles asked; none: model vs C core only
	// Libbpf is one oracle's path, used (named "libbpf") when Oracles is
	// empty.
	Libbpf      string
	Seeds       int // random seeds, GenPerSeed inputs each
	GenPerSeed  int
	Corpus      bool
	CorpusStep  int
	CorpusFrom  string
	CorpusTo    string
	Workers     int
	MaxReported int       // disagreements printed in full
	Log         io.Writer // progress and disagreements
	StopOnFirst bool      // stop feeding inputs after a disagreement
}

// Summary counts what ran. Disagreements counts the inputs on which any
// implementation (the C core or any oracle) disagrees with the model, or
// the model with the case; ByImpl says who: per implementation, the inputs
// it was asked and those it disagreed on.
type Summary struct {
	Inputs, Disagreements int
	ByClass               map[string][3]int // inputs, refused, disagreements
	ByImpl                map[string][2]int // asked, disagreements
	Impls                 []string          // ByImpl's keys: "model", "ccore", then the oracles in order
}

// Run feeds every input to every implementation.
func Run(cfg Config) (Summary, error) {
	oracles := cfg.Oracles
	if len(oracles) == 0 && cfg.Libbpf != "" {
		oracles = []Oracle{{Name: "libbpf", Path: cfg.Libbpf}}
	}
	sum := Summary{ByClass: map[string][3]int{}, ByImpl: map[string][2]int{}, Impls: []string{"model", "ccore"}}
	for _, o := range oracles {
		sum.Impls = append(sum.Impls, o.Name)
	}
	workers := cfg.Workers
	if workers < 1 {
		workers = runtime.NumCPU()
	}
	in := make(chan Input, 2*workers)
	var mu sync.Mutex
	var stop atomic.Bool
	record := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		class := classOf(r.Input.Name)
		c := sum.ByClass[class]
		c[0]++
		sum.Inputs++
		if r.Model.Errno != 0 {
			c[1]++
		}
		asked := []string{"model", "ccore"}
		if r.Asked {
			asked = sum.Impls
		}
		for _, name := range asked {
			v := sum.ByImpl[name]
			v[0]++
			sum.ByImpl[name] = v
		}
		for _, name := range r.Against {
			v := sum.ByImpl[name]
			v[1]++
			sum.ByImpl[name] = v
		}
		if r.Disagree != "" {
			c[2]++
			sum.Disagreements++
			if cfg.StopOnFirst {
				stop.Store(true)
			}
			if sum.Disagreements <= cfg.MaxReported {
				fmt.Fprintf(cfg.Log, "DISAGREE %s: %s (model %s, ccore %s, %s)\n",
					r.Input.Name, r.Disagree, r.Model, r.CCore, libbpfStr(r, oracles))
			}
		}
		sum.ByClass[class] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for range workers {
		rn := &Runner{}
		var err error
		if rn.CCore, err = StartDriver("ccore", cfg.CCore); err != nil {
			return sum, err
		}
		for _, o := range oracles {
			d, err := StartDriver(o.Name, o.Path)
			if err != nil {
				return sum, err
			}
			rn.Libbpf = append(rn.Libbpf, d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rn.CCore.Close()
			for _, d := range rn.Libbpf {
				defer d.Close()
			}
			for x := range in {
				record(rn.Run(x))
			}
		}()
	}
	errStop := errors.New("stopped")
	send := func(x Input) error {
		if stop.Load() {
			return errStop
		}
		in <- x
		return nil
	}
	feed := func() error {
		defer close(in)
		hand, err := HandInputs()
		if err != nil {
			return err
		}
		for _, x := range hand {
			if err := send(x); err != nil {
				return err
			}
		}
		for seed := range cfg.Seeds {
			gen, err := GenInputs(uint64(seed), cfg.GenPerSeed)
			if err != nil {
				return err
			}
			for _, x := range gen {
				if err := send(x); err != nil {
					return err
				}
			}
		}
		if cfg.Corpus {
			n := 0
			return Corpus(cfg.CorpusFrom, cfg.CorpusTo, cfg.CorpusStep, cfg.Log, func(x Input) error {
				if err := send(x); err != nil {
					return err
				}
				if n++; n%500 == 0 {
					fmt.Fprintf(cfg.Log, "threeway: %d corpus modules fed\n", n)
				}
				return nil
			})
		}
		return nil
	}
	if err := feed(); err != nil && err != errStop {
		errs <- err
	}
	wg.Wait()
	close(errs)
	return sum, <-errs
}

func libbpfStr(r Result, oracles []Oracle) string {
	if len(oracles) == 0 || !r.Asked {
		return "libbpf not asked"
	}
	var parts []string
	for i, o := range r.Libbpf {
		parts = append(parts, oracles[i].Name+" "+o.String())
	}
	return strings.Join(parts, ", ")
}

func classOf(name string) string {
	for i := range len(name) {
		if name[i] == '/' {
			return name[:i]
		}
	}
	return name
}
