package threeway

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Config says which implementations run and which inputs they get.
type Config struct {
	CCore       string // btfrecon-ccore path
	Libbpf      string // oracle path; "" runs model vs C core only
	Seeds       int    // random seeds, GenPerSeed inputs each
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

// Summary counts what ran.
type Summary struct {
	Inputs, Disagreements int
	ByClass               map[string][3]int // inputs, refused, disagreements
}

// Run feeds every input to the three implementations.
func Run(cfg Config) (Summary, error) {
	sum := Summary{ByClass: map[string][3]int{}}
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
		if r.Disagree != "" {
			c[2]++
			sum.Disagreements++
			if cfg.StopOnFirst {
				stop.Store(true)
			}
			if sum.Disagreements <= cfg.MaxReported {
				fmt.Fprintf(cfg.Log, "DISAGREE %s: %s (model %s, ccore %s, libbpf %s)\n",
					r.Input.Name, r.Disagree, r.Model, r.CCore, libbpfStr(r))
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
		if cfg.Libbpf != "" {
			if rn.Libbpf, err = StartDriver("libbpf", cfg.Libbpf); err != nil {
				return sum, err
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rn.CCore.Close()
			if rn.Libbpf != nil {
				defer rn.Libbpf.Close()
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

func libbpfStr(r Result) string {
	if !r.Asked {
		return "not asked"
	}
	return r.Libbpf.String()
}

func classOf(name string) string {
	for i := range len(name) {
		if name[i] == '/' {
			return name[:i]
		}
	}
	return name
}
