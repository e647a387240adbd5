package main

// The whole-process table: the btfrecon binary and the libbpf oracle driver
// binary run as separate processes on the same files, interleaved, each run
// timed from start to exit with its peak resident set (wait4's ru_maxrss:
// everything the process had mapped at its peak, binary and libraries
// included, as a user's `time -v` shows it).

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// procRows lays out the inputs in dir and returns the rows: start-up (what
// a process costs before it reads anything), check of the
// target vmlinux BTF (the oracle's counterpart is its parse: a distill of
// an empty split), distill and relocate of each module on the same raw
// files, then the same verbs reading the module itself (.ko.xz), which
// only btfrecon can; those compare with the oracle on the raw .BTF taken
// out of it.
func procRows(dir string, kb *kernels.Kernel, base, target *btf.Spec, basePath, targetPath string, mods ...*corpus.Module) ([]procRow, error) {
	p := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(p("empty.split"), btf.NewBuilder(target.Order(), target).Bytes(), 0o644); err != nil {
		return nil, err
	}
	mb := func(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	rows := []procRow{{
		what:     "start-up (--version)",
		model:    []string{"--version"},
		lib:      []string{"version"},
		libLabel: "version",
		other:    true,
	}, {
		what:     "check vmlinux 6.12.117 (" + mb(int(target.Header().TypeLen+target.Header().StrLen)) + ")",
		model:    []string{"check", targetPath},
		lib:      []string{"distill", targetPath, p("empty.split"), p("o.empty.d"), p("o.empty.s")},
		libLabel: "parse: distill of an empty split",
	}}
	var koRows []procRow
	for _, m := range mods {
		split, err := btf.ParseSplit(m.BTF, base)
		if err != nil {
			return nil, err
		}
		d, s2, err := recon.Distill(base, split)
		if err != nil {
			return nil, err
		}
		raw, dRaw, s2Raw := p(m.Name+".btf"), p(m.Name+".d"), p(m.Name+".s2")
		for f, b := range map[string][]byte{raw: m.BTF, dRaw: d.Marshal(), s2Raw: s2.Marshal()} {
			if err := os.WriteFile(f, b, 0o644); err != nil {
				return nil, err
			}
		}
		lib := []string{"distill", basePath, raw, p("o." + m.Name + ".d"), p("o." + m.Name + ".s2")}
		rows = append(rows, procRow{
			what:  fmt.Sprintf("distill %s (%d KB .BTF)", m.Name, len(m.BTF)/1024),
			model: []string{"distill", "--base", basePath, "--split", raw, "--out-base", p("m." + m.Name + ".d"), "--out-split", p("m." + m.Name + ".s2")},
			lib:   lib,
			same:  [][2]string{{p("m." + m.Name + ".d"), p("o." + m.Name + ".d")}, {p("m." + m.Name + ".s2"), p("o." + m.Name + ".s2")}},
		})
		libR := []string{"relocate", dRaw, s2Raw, targetPath, p("o." + m.Name + ".r")}
		rows = append(rows, procRow{
			what:  fmt.Sprintf("relocate %s onto 6.12.117", m.Name),
			model: []string{"relocate", "--distilled", dRaw, "--split", s2Raw, "--target", targetPath, "--out", p("m." + m.Name + ".r")},
			lib:   libR,
			same:  [][2]string{{p("m." + m.Name + ".r"), p("o." + m.Name + ".r")}},
		})

		// The module itself, and the module with .BTF and .BTF.base
		// injected, as `btfrecon inject` writes it.
		ko, err := kb.Module(m.Name)
		if err != nil {
			return nil, err
		}
		km, err := kmod.Open(ko)
		if err != nil {
			return nil, err
		}
		img, err := km.WithSections(s2.Marshal(), d.Marshal())
		if err == nil {
			img, err = kmod.CompressXZ(img)
		}
		if err != nil {
			return nil, err
		}
		injected := p(m.Name + ".distilled.ko.xz")
		if err := os.WriteFile(injected, img, 0o644); err != nil {
			return nil, err
		}
		koRows = append(koRows, procRow{
			what:     fmt.Sprintf("distill %s.ko.xz (%d KB)", m.Name, fileSize(ko)/1024),
			model:    []string{"distill", "--base", basePath, "--split", ko, "--out-base", p("k." + m.Name + ".d"), "--out-split", p("k." + m.Name + ".s2")},
			lib:      lib,
			same:     [][2]string{{p("k." + m.Name + ".d"), p("o." + m.Name + ".d")}, {p("k." + m.Name + ".s2"), p("o." + m.Name + ".s2")}},
			libLabel: "distill of the raw .BTF",
			other:    true,
		}, procRow{
			what:     fmt.Sprintf("relocate --ko %s.ko.xz (distilled)", m.Name),
			model:    []string{"relocate", "--ko", injected, "--target", targetPath, "--out", p("k." + m.Name + ".r")},
			lib:      libR,
			same:     [][2]string{{p("k." + m.Name + ".r"), p("o." + m.Name + ".r")}},
			libLabel: "relocate of the raw .BTF.base and .BTF",
			other:    true,
		})
	}
	return append(rows, koRows...), nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// procRow is one verb run both ways.
type procRow struct {
	what     string
	model    []string    // btfrecon's arguments
	lib      []string    // the oracle driver's arguments
	same     [][2]string // output files that must be equal, btfrecon's and the oracle's
	libLabel string      // what the oracle does, when it is not the same verb
	// other: not the same input for both (start-up; a module only
	// btfrecon reads), so not counted in the summary.
	other bool
}

// procStat is one process run.
type procStat struct {
	wall  time.Duration
	cpu   time.Duration // user + system
	rss   int64         // bytes
	floor int64         // the spawner's own peak RSS, bytes
}

// spawner runs processes through cmd/bench/spawn, a small process of its
// own: a child's ru_maxrss counts the address space it was forked from,
// which for bench (the corpus in memory) would dwarf any child.
type spawner struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startSpawner(bin string) (*spawner, error) {
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &spawner{cmd, in, bufio.NewReader(out)}, nil
}

// run runs bin with args; stdout goes nowhere, stderr to bench's.
func (s *spawner) run(bin string, args []string) (procStat, error) {
	req := strings.Join(append([]string{bin}, args...), "\x00") + "\n"
	if _, err := io.WriteString(s.in, req); err != nil {
		return procStat{}, err
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		return procStat{}, fmt.Errorf("spawn: %w", err)
	}
	var wall, cpu, rss, floor int64
	var status int
	if _, err := fmt.Sscan(line, &wall, &cpu, &rss, &floor, &status); err != nil {
		return procStat{}, fmt.Errorf("spawn: reply %q: %w", line, err)
	}
	if status != 0 {
		return procStat{}, fmt.Errorf("%s %s: exit status %d", filepath.Base(bin), strings.Join(args, " "), status)
	}
	return procStat{time.Duration(wall), time.Duration(cpu), rss << 10, floor << 10}, nil
}

func (s *spawner) close() error {
	s.in.Close()
	return s.cmd.Wait()
}

type quartiles struct{ q1, med, q3 float64 }

func quart(v []float64) quartiles {
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(p float64) float64 {
		x := p * float64(len(s)-1)
		i := int(x)
		if i+1 >= len(s) {
			return s[len(s)-1]
		}
		return s[i] + (x-float64(i))*(s[i+1]-s[i])
	}
	return quartiles{at(0.25), at(0.5), at(0.75)}
}

// wholeProcess runs every row n times, btfrecon and the oracle alternating
// which goes first, and prints medians, quartile spreads and the ratios
// btfrecon / oracle (the median of the per-pair ratios: each pair ran back
// to back, so slow phases of a noisy machine hit both). CPU is user+system
// time, which a loaded machine disturbs less than wall time.
func wholeProcess(sp *spawner, model, lib string, n int, rows []procRow) error {
	fmt.Printf("whole process: %s (%.1f MB) vs %s (%.1f MB)\n%d interleaved runs each; wall ms as median [q1 q3]; ratios btfrecon/oracle, median [q1 q3] of the pairs; peak RSS MiB, median\n\n",
		model, float64(fileSize(model))/1e6, lib, float64(fileSize(lib))/1e6, n)
	fmt.Printf("%-40s %20s %20s %17s %10s %6s %6s %5s\n", "operation", "btfrecon wall", "oracle wall", "wall ratio", "CPU ratio", "MiB", "oracle", "RSS")
	var floor int64
	var rowsWall, rowsRSS, compared int
	for _, r := range rows {
		var mw, lw, mr, lr, wr, cr, rr []float64
		for i := range n {
			var m, l procStat
			var err error
			run := func(first bool) {
				if err != nil {
					return
				}
				if first {
					m, err = sp.run(model, r.model)
				} else {
					l, err = sp.run(lib, r.lib)
				}
			}
			run(i%2 == 0)
			run(i%2 != 0)
			if err != nil {
				return err
			}
			floor = max(floor, m.floor, l.floor)
			if i == 0 {
				for _, p := range r.same {
					a, errA := os.ReadFile(p[0])
					b, errB := os.ReadFile(p[1])
					if errA != nil || errB != nil || !bytes.Equal(a, b) {
						return fmt.Errorf("%s: btfrecon's %s and the oracle's %s differ", r.what, p[0], p[1])
					}
				}
			}
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			mw, lw = append(mw, ms(m.wall)), append(lw, ms(l.wall))
			mr, lr = append(mr, float64(m.rss)/(1<<20)), append(lr, float64(l.rss)/(1<<20))
			wr, rr = append(wr, float64(m.wall)/float64(l.wall)), append(rr, float64(m.rss)/float64(l.rss))
			cr = append(cr, float64(max(m.cpu, 1))/float64(max(l.cpu, 1)))
		}
		q := func(v []float64, f string) string {
			x := quart(v)
			return fmt.Sprintf(f+" ["+f+" "+f+"]", x.med, x.q1, x.q3)
		}
		w, rss := quart(wr), quart(rr)
		fmt.Printf("%-40s %20s %20s %17s %10.2f %6.1f %6.1f %5.2f\n", r.what, q(mw, "%.1f"), q(lw, "%.1f"),
			q(wr, "%.2f"), quart(cr).med, quart(mr).med, quart(lr).med, rss.med)
		if r.libLabel != "" {
			fmt.Printf("  (oracle: %s)\n", r.libLabel)
		}
		if !r.other {
			compared++
			if w.med <= 1 {
				rowsWall++
			}
			if rss.med <= 1 {
				rowsRSS++
			}
		}
	}
	fmt.Printf("\nsame-input rows at or below the oracle: wall %d of %d, peak RSS %d of %d\n", rowsWall, compared, rowsRSS, compared)
	fmt.Printf("(peak RSS counts the binary's and libraries' mapped pages; runs started from a %.1f MiB spawner, no run reads lower)\n\n",
		float64(floor)/(1<<20))
	return nil
}
