package threeway

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/diff"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Target is a target base BTF, raw and parsed once.
type Target struct {
	Name string
	Raw  []byte
	Spec *btf.Spec
}

// NewTarget parses raw as a standalone BTF.
func NewTarget(name string, raw []byte) (*Target, error) {
	s, err := btf.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	return &Target{Name: name, Raw: raw, Spec: s}, nil
}

// Input is one relocation: split S on distilled base D, onto T.
type Input struct {
	Name      string
	D, S      []byte
	T         *Target
	NoLibbpf  bool // libbpf would not return (member type cycle)
	WantErrno int  // when non-zero, the errno all must give
}

// Outcome is one implementation's answer: the relocated bytes or an errno.
type Outcome struct {
	Errno int // 0: success
	Out   []byte
	Err   error // not a verdict: a harness or I/O problem
}

func (o Outcome) String() string {
	switch {
	case o.Err != nil:
		return "failure: " + o.Err.Error()
	case o.Errno != 0:
		return fmt.Sprintf("errno %d", o.Errno)
	}
	return fmt.Sprintf("ok, %d bytes", len(o.Out))
}

// Model relocates with the Go model.
func Model(in Input) Outcome {
	d, err := btf.Parse(in.D)
	if err != nil {
		return Outcome{Err: fmt.Errorf("model: distilled base does not decode: %w", err)}
	}
	s, err := btf.ParseSplit(in.S, d)
	if err != nil {
		return Outcome{Err: fmt.Errorf("model: split does not decode: %w", err)}
	}
	rel, _, err := recon.Relocate(d, s, in.T.Spec)
	if err != nil {
		if e := recon.Errno(err); e != 0 {
			return Outcome{Errno: e}
		}
		return Outcome{Err: err}
	}
	return Outcome{Out: rel.Marshal()}
}

// Driver is a relocating process with the oracle's batch protocol: the
// libbpf oracle or btfrecon-ccore.
type Driver struct {
	Name  string
	batch *oracle.Batch
}

// StartDriver starts path in batch mode.
func StartDriver(name, path string) (*Driver, error) {
	b, err := (&oracle.Oracle{Path: path}).NewBatch()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Driver{Name: name, batch: b}, nil
}

// Close ends the process.
func (d *Driver) Close() error { return d.batch.Close() }

// Relocate runs one input.
func (d *Driver) Relocate(in Input) Outcome {
	out, err := d.batch.Relocate(in.D, in.S, in.T.Raw)
	var oe *oracle.Error
	switch {
	case errors.As(err, &oe):
		return Outcome{Errno: oe.Errno}
	case err != nil:
		return Outcome{Err: fmt.Errorf("%s: %w", d.Name, err)}
	}
	return Outcome{Out: out}
}

// Result is the three answers for one input and whether they agree.
type Result struct {
	Input                Input
	Model, CCore, Libbpf Outcome
	Asked                bool // libbpf asked
	Disagree             string
}

// Runner holds one C core and (optionally) one libbpf process. Use one
// Runner per goroutine.
type Runner struct {
	CCore, Libbpf *Driver
}

// Run relocates in with every implementation and compares.
func (r *Runner) Run(in Input) Result {
	res := Result{Input: in}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.CCore = r.CCore.Relocate(in)
		if r.Libbpf != nil && !in.NoLibbpf {
			res.Libbpf = r.Libbpf.Relocate(in)
			res.Asked = true
		}
	}()
	res.Model = Model(in)
	wg.Wait()
	res.Disagree = compare(res)
	return res
}

func compare(r Result) string {
	all := []struct {
		name string
		o    Outcome
	}{{"model", r.Model}, {"ccore", r.CCore}}
	if r.Asked {
		all = append(all, struct {
			name string
			o    Outcome
		}{"libbpf", r.Libbpf})
	}
	for _, a := range all {
		if a.o.Err != nil {
			return fmt.Sprintf("%s: %v", a.name, a.o.Err)
		}
	}
	if r.Input.WantErrno != 0 && r.Model.Errno != r.Input.WantErrno {
		return fmt.Sprintf("model errno %d, the case expects %d", r.Model.Errno, r.Input.WantErrno)
	}
	ref := all[0]
	for _, a := range all[1:] {
		if a.o.Errno != ref.o.Errno {
			return fmt.Sprintf("verdicts differ: %s %s, %s %s", ref.name, ref.o, a.name, a.o)
		}
		if a.o.Errno == 0 && !bytes.Equal(a.o.Out, ref.o.Out) {
			return fmt.Sprintf("bytes differ: %s %d bytes, %s %d bytes, first difference at byte %d",
				ref.name, len(ref.o.Out), a.name, len(a.o.Out), diff.FirstDiff(ref.o.Out, a.o.Out))
		}
	}
	return ""
}
