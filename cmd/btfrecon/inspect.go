package main

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btffile"
)

func runDump(e *env, args []string) error {
	fs := newFlags(e, "dump")
	base := fs.String("base", "", "BTF the file is split on (default: the module's .BTF.base, else none)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one FILE"}
	}
	s, _, err := btffile.LoadSpec(pos[0], *base)
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
	fs := newFlags(e, "check")
	base := fs.String("base", "", "BTF the file is split on (default: the module's .BTF.base, else none)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one FILE"}
	}
	s, f, err := btffile.LoadSpec(pos[0], *base)
	if err != nil {
		return err
	}
	out := s.Marshal()
	h := s.Header()
	fmt.Fprintf(e.stdout, "%s: %s, %s, types %d (ids %d..%d), type bytes %d, string bytes %d\n",
		f.Path, f.Format, s.Order(), s.NumLocal(), s.FirstID(), s.NumIDs()-1, h.TypeLen, h.StrLen)
	if !bytes.Equal(out, f.BTF) {
		at := firstDiff(out, f.BTF)
		return verdictError{fmt.Errorf("%s: round trip differs at byte %#x (%d bytes in, %d out)", f.Path, at, len(f.BTF), len(out))}
	}
	fmt.Fprintf(e.stdout, "%s: round trip byte-identical (%d bytes)\n", f.Path, len(out))
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
