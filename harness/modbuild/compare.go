package modbuild

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/diff"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// maxDiffs bounds the per-type and per-word lines of a section's diff.
const maxDiffs = 20

// Section is one section of the module as the kernel's build wrote it and
// as the model does.
type Section struct {
	Name        string
	Real, Model []byte
	Present     bool // the build wrote it (else the model must not either)
	Identical   bool
	FirstDiffAt int      // byte offset, -1 when identical
	Lines       []string // where they differ: types (bpftool's dump form) or .BTF_ids words
}

// Comparison is the real build against the model, section by section.
type Comparison struct {
	Sections  []Section
	Identical bool
}

// Compare holds the module the kernel's build wrote (realKO) against the
// model's sections.
func Compare(realKO []byte, m *Model) (*Comparison, error) {
	mod, err := kmod.Parse(realKO, "the built module")
	if err != nil {
		return nil, err
	}
	c := &Comparison{Identical: true}
	rs, okS := mod.BTF()
	rb, okB := mod.BTFBase()
	ri, okI := mod.Section(kmod.SectionBTFIDs)
	for _, s := range []Section{
		{Name: kmod.SectionBTF, Real: rs, Model: m.Split, Present: okS},
		{Name: kmod.SectionBTFBase, Real: rb, Model: m.Base, Present: okB},
		{Name: kmod.SectionBTFIDs, Real: ri, Model: m.BTFIDs, Present: okI},
	} {
		s.Identical = s.Present == (s.Model != nil) && bytes.Equal(s.Real, s.Model)
		s.FirstDiffAt = -1
		if !s.Identical {
			c.Identical = false
			s.FirstDiffAt = diff.FirstDiff(s.Real, s.Model)
		}
		c.Sections = append(c.Sections, s)
	}
	if !c.Identical {
		explain(c, mod)
	}
	return c, nil
}

// explain fills the Lines of the differing sections.
func explain(c *Comparison, mod *kmod.Module) {
	sec := func(name string) *Section {
		for i := range c.Sections {
			if c.Sections[i].Name == name {
				return &c.Sections[i]
			}
		}
		return nil
	}
	b, s, ids := sec(kmod.SectionBTFBase), sec(kmod.SectionBTF), sec(kmod.SectionBTFIDs)
	rb, errR := btf.Parse(b.Real)
	mb, errM := btf.Parse(b.Model)
	if !b.Identical {
		b.Lines = typeLines(rb, errR, mb, errM)
	}
	if !s.Identical {
		var rs, ms *btf.Spec
		if errR == nil {
			rs, errR = btf.ParseSplit(s.Real, rb)
		}
		if errM == nil {
			ms, errM = btf.ParseSplit(s.Model, mb)
		}
		s.Lines = typeLines(rs, errR, ms, errM)
	}
	if !ids.Identical {
		ids.Lines = wordLines(ids.Real, ids.Model, mod)
	}
}

// typeLines lists the types that differ (by their dump text, so a type
// whose names resolve alike but whose offsets differ shows too).
func typeLines(r *btf.Spec, errR error, m *btf.Spec, errM error) []string {
	switch {
	case errR != nil:
		return []string{"the build's bytes do not decode: " + errR.Error()}
	case errM != nil:
		return []string{"the model's bytes do not decode: " + errM.Error()}
	}
	var out []string
	if rh, mh := r.Header(), m.Header(); rh != mh {
		out = append(out, fmt.Sprintf("header: build %+v, model %+v", rh, mh))
	}
	if !bytes.Equal(r.Strings(), m.Strings()) {
		out = append(out, fmt.Sprintf("strings: build %d bytes, model %d bytes, first difference at %d",
			len(r.Strings()), len(m.Strings()), diff.FirstDiff(r.Strings(), m.Strings())))
	}
	n := max(r.NumLocal(), m.NumLocal())
	more := 0
	for i := range n {
		var rt, mt string
		var rw, mw []uint32
		if i < r.NumLocal() {
			t := r.Local(i)
			rt, rw = dumpType(r, t), t.W
		}
		if i < m.NumLocal() {
			t := m.Local(i)
			mt, mw = dumpType(m, t), t.W
		}
		if rt == mt && slices.Equal(rw, mw) {
			continue
		}
		if len(out) >= maxDiffs {
			more++
			continue
		}
		out = append(out, fmt.Sprintf("build: %s\n  model: %s", orNone(rt), orNone(mt)))
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("... and %d more types", more))
	}
	return out
}

// wordLines lists the 4-byte words of .BTF_ids that differ, with the
// __BTF_ID__ symbol at each.
func wordLines(r, m []byte, mod *kmod.Module) []string {
	if len(r) != len(m) {
		return []string{fmt.Sprintf("build %d bytes, model %d bytes", len(r), len(m))}
	}
	at := map[uint64]string{}
	if _, syms, ok, err := mod.BTFIDs(); err == nil && ok {
		for _, s := range syms {
			at[s.Off] = s.Name
		}
	}
	var out []string
	bo := mod.ByteOrder
	for off := 0; off+4 <= len(r); off += 4 {
		rv, mv := bo.Uint32(r[off:]), bo.Uint32(m[off:])
		if rv == mv {
			continue
		}
		if len(out) >= maxDiffs {
			out = append(out, "...")
			break
		}
		sym := at[uint64(off)]
		if sym == "" {
			sym = "(no symbol: a sorted entry or a set's flags)"
		}
		out = append(out, fmt.Sprintf("offset %d: build %d, model %d  %s", off, rv, mv, sym))
	}
	return out
}

func dumpType(s *btf.Spec, t btf.Type) string {
	var b strings.Builder
	s.FormatType(&b, t)
	return strings.TrimRight(strings.ReplaceAll(b.String(), "\n", " "), " ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Write renders the comparison, one line a section, then the differences.
func (c *Comparison) Write(w io.Writer) {
	for _, s := range c.Sections {
		switch {
		case !s.Present && s.Model == nil:
			fmt.Fprintf(w, "  %-10s none (build and model)\n", s.Name)
		case s.Identical:
			fmt.Fprintf(w, "  %-10s identical, %d bytes\n", s.Name, len(s.Real))
		case !s.Present:
			fmt.Fprintf(w, "  %-10s DIFFERS: the build wrote none, the model %d bytes\n", s.Name, len(s.Model))
		default:
			fmt.Fprintf(w, "  %-10s DIFFERS: build %d bytes, model %d bytes, first difference at byte %d\n",
				s.Name, len(s.Real), len(s.Model), s.FirstDiffAt)
		}
		for _, l := range s.Lines {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}
