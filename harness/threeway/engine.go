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

// Driver is a relocating process with the oracle's batch protocol: a
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

// Result is every answer for one input and whether they agree.
type Result struct {
	Input        Input
	Model, CCore Outcome
	Libbpf       []Outcome // one per Runner.Libbpf oracle, in order
	Asked        bool      // the libbpf oracles were asked
	Disagree     string    // the first disagreement, "" when all agree
	// Against names every implementation that disagrees ("model" when the
	// model misses the case's errno or fails, "ccore", an oracle's name).
	Against []string
}

// Runner holds one C core and zero or more libbpf oracle processes (libbpf
// 1.5 and 1.8). Use one Runner per goroutine.
type Runner struct {
	CCore  *Driver
	Libbpf []*Driver
}

// Run relocates in with every implementation and compares.
func (r *Runner) Run(in Input) Result {
	res := Result{Input: in}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.CCore = r.CCore.Relocate(in)
		if len(r.Libbpf) > 0 && !in.NoLibbpf {
			res.Asked = true
			for _, l := range r.Libbpf {
				res.Libbpf = append(res.Libbpf, l.Relocate(in))
			}
		}
	}()
	res.Model = Model(in)
	wg.Wait()
	res.Against, res.Disagree = r.compare(res)
	return res
}

// compare holds every other implementation to the model: the same errno,
// and on success the same bytes (the relocated split keeps its input's
// header under every libbpf, so the bytes agree exactly).
func (r *Runner) compare(res Result) (against []string, first string) {
	note := func(name, why string) {
		against = append(against, name)
		if first == "" {
			first = why
		}
	}
	if res.Model.Err != nil {
		note("model", fmt.Sprintf("model: %v", res.Model.Err))
		return against, first
	}
	if res.Input.WantErrno != 0 && res.Model.Errno != res.Input.WantErrno {
		note("model", fmt.Sprintf("model errno %d, the case expects %d", res.Model.Errno, res.Input.WantErrno))
	}
	others := []struct {
		name string
		o    Outcome
	}{{"ccore", res.CCore}}
	for i, o := range res.Libbpf {
		others = append(others, struct {
			name string
			o    Outcome
		}{r.Libbpf[i].Name, o})
	}
	for _, a := range others {
		switch {
		case a.o.Err != nil:
			note(a.name, fmt.Sprintf("%s: %v", a.name, a.o.Err))
		case a.o.Errno != res.Model.Errno:
			note(a.name, fmt.Sprintf("verdicts differ: model %s, %s %s", res.Model, a.name, a.o))
		case a.o.Errno == 0 && !bytes.Equal(a.o.Out, res.Model.Out):
			note(a.name, fmt.Sprintf("bytes differ: model %d bytes, %s %d bytes, first difference at byte %d (%s)",
				len(res.Model.Out), a.name, len(a.o.Out), diff.FirstDiff(res.Model.Out, a.o.Out),
				oracle.DiffSections(res.Model.Out, a.o.Out)))
		}
	}
	return against, first
}
