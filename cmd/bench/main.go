// Command bench times the model against libbpf 1.5.0 on the same real
// inputs in one run and prints the ratios (model / libbpf; below 1.0 the
// model is faster). Two tables: whole processes (the btfrecon binary and
// the oracle driver binary, side by side: wall time, CPU time, peak RSS;
// whole.go), then in-process times with the model's allocations per
// operation. `make bench` runs it; it needs `make testdata oracle`.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/recon"
)

func main() {
	n := flag.Int("n", 30, "iterations per measurement (the median is reported)")
	procs := flag.Int("procs", 21, "whole-process runs per row, each way (0: no whole-process table)")
	bin := flag.String("btfrecon", "", "the btfrecon binary for the whole-process table (default: go build -tags lean ./cmd/btfrecon)")
	inproc := flag.Bool("inproc", true, "print the in-process table")
	flag.Parse()
	if err := run(*n, *procs, *bin, *inproc); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// measure runs f n times and returns the median time, and the mean
// allocations and allocated bytes of one run.
func measure(n int, f func()) (time.Duration, uint64, uint64) {
	f() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := make([]time.Duration, n)
	for i := range d {
		t := time.Now()
		f()
		d[i] = time.Since(t)
	}
	runtime.ReadMemStats(&after)
	slices.Sort(d)
	return d[n/2], (after.Mallocs - before.Mallocs) / uint64(n), (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// libbpf runs a driver bench verb and returns its median timings by name.
func libbpf(o *oracle.Oracle, args ...string) (map[string]time.Duration, error) {
	out, err := exec.Command(o.Path, args...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.Path, args[0], err)
	}
	m := map[string]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && strings.HasSuffix(f[0], "_ns") && !strings.HasSuffix(f[0], "_min_ns") {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			m[strings.TrimSuffix(f[0], "_ns")] = time.Duration(v)
		}
	}
	return m, nil
}

type row struct {
	what          string
	model, lib    time.Duration
	allocs, bytes uint64
	input         int
}

func run(n, procs int, bin string, inproc bool) error {
	o, err := oracle.New()
	if err != nil {
		return err
	}
	kb, err := kernels.Open("6.12.107", "amd64")
	if err != nil {
		return err
	}
	kr, err := kernels.Open("6.12.117", "amd64")
	if err != nil {
		return err
	}
	base, rawB, err := kb.Vmlinux()
	if err != nil {
		return err
	}
	target, rawR, err := kr.Vmlinux()
	if err != nil {
		return err
	}
	mods, err := corpus.Load(kb, os.Stderr)
	if err != nil {
		return err
	}
	// The smallest and the largest .BTF among modules that keep their BTF.
	var small, large *corpus.Module
	for i := range mods {
		m := &mods[i]
		if m.Name == "nls_ascii" {
			small = m
		}
		if large == nil || len(m.BTF) > len(large.BTF) {
			split, _ := btf.ParseSplit(m.BTF, base)
			if d, s2, err := recon.Distill(base, split); err == nil {
				if _, _, err := recon.Relocate(d, s2, target); err == nil {
					large = m
				}
			}
		}
	}
	if small == nil || large == nil {
		return fmt.Errorf("modules not found in %s", kb)
	}
	dir, err := os.MkdirTemp("", "btfrecon-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			panic(err)
		}
		return p
	}
	basePath, targetPath := write("base", rawB), write("target", rawR)

	if procs > 0 {
		build := func(out, pkg string, flags ...string) error {
			goTool := cmp.Or(os.Getenv("GO"), "go")
			args := append(append([]string{"build"}, flags...), "-o", out, pkg)
			if b, err := exec.Command(goTool, args...).CombinedOutput(); err != nil {
				return fmt.Errorf("go build %s: %w: %s", pkg, err, b)
			}
			return nil
		}
		if bin == "" {
			// The build make btfrecon installs as ./btfrecon: the
			// table's verbs are all in the lean one.
			bin = filepath.Join(dir, "btfrecon")
			if err := build(bin, "./cmd/btfrecon", "-tags", "lean"); err != nil {
				return err
			}
		}
		if err := build(filepath.Join(dir, "spawn"), "./cmd/bench/spawn"); err != nil {
			return err
		}
		rows, err := procRows(dir, kb, base, target, basePath, targetPath, small, large)
		if err != nil {
			return err
		}
		sp, err := startSpawner(filepath.Join(dir, "spawn"))
		if err != nil {
			return err
		}
		err = wholeProcess(sp, bin, o.Path, procs, rows)
		if cerr := sp.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if !inproc {
		return nil
	}

	var rows []row
	tp, a, b := measure(n, func() { btf.Parse(rawB) })
	lb, err := libbpf(o, "bench-distill", basePath, write("nls", small.BTF), strconv.Itoa(n))
	if err != nil {
		return err
	}
	rows = append(rows, row{fmt.Sprintf("parse vmlinux 6.12.107 (%.1f MB)", float64(len(rawB))/1e6), tp, lb["parse_base"], a, b, len(rawB)})
	for _, m := range []*corpus.Module{small, large} {
		split, err := btf.ParseSplit(m.BTF, base)
		if err != nil {
			return err
		}
		td, a, b := measure(n, func() { recon.Distill(base, split) })
		ld, err := libbpf(o, "bench-distill", basePath, write(m.Name+".split", m.BTF), strconv.Itoa(n))
		if err != nil {
			return err
		}
		rows = append(rows, row{fmt.Sprintf("distill %s (%d KB .BTF)", m.Name, len(m.BTF)/1024), td, ld["distill"], a, b, len(rawB) + len(m.BTF)})
		d, s2, _ := recon.Distill(base, split)
		tr, a, b := measure(n, func() { recon.Relocate(d, s2, target) })
		lr, err := libbpf(o, "bench-relocate", write(m.Name+".d", d.Marshal()), write(m.Name+".s2", s2.Marshal()), targetPath, strconv.Itoa(n))
		if err != nil {
			return err
		}
		rows = append(rows, row{fmt.Sprintf("relocate %s onto 6.12.117", m.Name), tr, lr["relocate"], a, b, len(rawR) + len(m.BTF)})
		// The whole load path: parse the target, then relocate.
		tt, a, b := measure(n, func() {
			t, _ := btf.Parse(rawR)
			recon.Relocate(d, s2, t)
		})
		rows = append(rows, row{fmt.Sprintf("  + parse 6.12.117 vmlinux"), tt, lr["relocate"] + lr["parse_target"], a, b, len(rawR) + len(m.BTF)})
	}

	fmt.Printf("btfrecon bench: model vs libbpf 1.5.0, median of %d runs each, %s, GOMAXPROCS %d\n\n", n, runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Printf("%-44s %12s %12s %7s %9s %12s %8s\n", "operation", "model", "libbpf", "ratio", "allocs/op", "bytes/op", "×input")
	// ×input: the model's bytes allocated per operation (an upper bound
	// on its peak heap) over the BTF it reads: base or target vmlinux
	// plus the module's.
	for _, r := range rows {
		fmt.Printf("%-44s %12s %12s %7.2f %9d %12d %8.2f\n", r.what, r.model.Round(time.Microsecond), r.lib.Round(time.Microsecond),
			float64(r.model)/float64(r.lib), r.allocs, r.bytes, float64(r.bytes)/float64(r.input))
	}
	return nil
}
