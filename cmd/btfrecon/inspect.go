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
	s, f, err := loadFileArg(e, "check", args)
	if err != nil {
		return err
	}
	out := s.Marshal()
	h := s.Header()
	fmt.Fprintf(e.stdout, "%s: %s, %s, types %d (ids %d..%d), type bytes %d, string bytes %d\n",
		f.Path, f.Format, s.Order(), s.NumLocal(), s.FirstID(), s.NumIDs()-1, h.TypeLen, h.StrLen)
	if !bytes.Equal(out, f.BTF) {
		at := diff.FirstDiff(out, f.BTF)
		return verdictError{fmt.Errorf("%s: round trip differs at byte %#x (%d bytes in, %d out)", f.Path, at, len(f.BTF), len(out))}
	}
	fmt.Fprintf(e.stdout, "%s: round trip byte-identical (%d bytes)\n", f.Path, len(out))
	return nil
}
