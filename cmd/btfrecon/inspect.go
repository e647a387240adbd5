package main

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/diff"
)

// loadFileArg parses the arguments of a verb taking one FILE and --base,
// and decodes that file.
func loadFileArg(e *env, verb string, args []string) (*btf.Spec, *btffile.File, error) {
	fs := newFlags(e, verb)
	base := fs.String("base", "", "BTF the file is split on (default: the module's .BTF.base, else none)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != 1 {
		return nil, nil, usageError{"want exactly one FILE"}
	}
	return btffile.LoadSpec(pos[0], *base)
}

func runDump(e *env, args []string) error {
	s, _, err := loadFileArg(e, "dump", args)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	if err := s.Dump(w); err != nil {
		return err
	}
	return w.Flush()
}

func runCheck(e *env, args []string) error {
	defer oneShot()()
	s, f, err := loadFileArg(e, "check", args)
	if err != nil {
		return err
	}
	// Re-encode into a comparison with the input, not into a second copy.
	c := &compareWriter{want: f.BTF, at: -1}
	s.WriteTo(c) // compareWriter never fails
	h := s.Header()
	fmt.Fprintf(e.stdout, "%s: %s, %s, types %d (ids %d..%d), type bytes %d, string bytes %d\n",
		f.Path, f.Format, s.Order(), s.NumLocal(), s.FirstID(), s.NumIDs()-1, h.TypeLen, h.StrLen)
	if at := c.firstDiff(); at >= 0 {
		return verdictError{fmt.Errorf("%s: round trip differs at byte %#x (%d bytes in, %d out)", f.Path, at, len(f.BTF), c.n)}
	}
	fmt.Fprintf(e.stdout, "%s: round trip byte-identical (%d bytes)\n", f.Path, c.n)
	return nil
}

// compareWriter compares what is written to it with want: firstDiff is
// diff.FirstDiff of the whole output and want, -1 when they are equal.
type compareWriter struct {
	want []byte
	n    int // bytes written
	at   int // first difference seen so far, -1 for none
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if c.at < 0 {
		rest := c.want[min(c.n, len(c.want)):]
		m := min(len(p), len(rest))
		switch {
		case !bytes.Equal(p[:m], rest[:m]):
			c.at = c.n + diff.FirstDiff(p[:m], rest[:m])
		case len(p) > m:
			c.at = c.n + m // output longer than want
		}
	}
	c.n += len(p)
	return len(p), nil
}

func (c *compareWriter) firstDiff() int {
	if c.at < 0 && c.n != len(c.want) {
		return min(c.n, len(c.want)) // output shorter than want
	}
	return c.at
}
