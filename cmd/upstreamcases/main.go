// Command upstreamcases writes the module rows the upstream fix series'
// kernel proof boots (kernel-patch/upstream, make upstream-kernel-boot):
// from one module built by a kernel tree, whose .BTF is split BTF on a
// distilled .BTF.base (pahole >= 1.26 makes both), one .ko per row:
//
//   - good: the module as built;
//   - each case LABEL given (hostile:split-id-out-of-range, ...): the
//     catalog's own edit (harness/cases), as btfrecon vm run --case makes it;
//   - btf-ids-out-of-range (with -kfunc NAME): good BTF, but the .BTF_ids
//     word of kfunc NAME's id set to 0x7fffffff, far past the module's BTF.
//
// and OUT/rows.txt, one "<row> <what>" line each.
//
// usage: upstreamcases -ko MOD.ko -out DIR [-kfunc NAME] LABEL...
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// BadBTFID is what the btf-ids-out-of-range row writes into .BTF_ids.
const BadBTFID = 0x7fffffff

func main() {
	ko := flag.String("ko", "", "the module as the kernel tree built it")
	out := flag.String("out", "", "directory for the rows")
	kfunc := flag.String("kfunc", "", "also write btf-ids-out-of-range for this kfunc of the module")
	flag.Parse()
	if *ko == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: upstreamcases -ko MOD.ko -out DIR [-kfunc NAME] LABEL...")
		os.Exit(2)
	}
	if err := run(*ko, *out, *kfunc, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "upstreamcases:", err)
		os.Exit(1)
	}
}

func run(ko, out, kfunc string, labels []string) error {
	m, err := kmod.Open(ko)
	if err != nil {
		return err
	}
	split, ok := m.BTF()
	if !ok {
		return fmt.Errorf("%s: no .BTF", ko)
	}
	base, ok := m.BTFBase()
	if !ok {
		return fmt.Errorf("%s: no .BTF.base (build the tree with pahole >= 1.26)", ko)
	}
	d, err := btf.Parse(base)
	if err != nil {
		return fmt.Errorf("%s: .BTF.base: %w", ko, err)
	}
	s, err := btf.ParseSplit(split, d)
	if err != nil {
		return fmt.Errorf("%s: .BTF on .BTF.base: %w", ko, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var rows []string
	write := func(name, what string, img []byte) error {
		if err := kmod.WriteFileAtomic(filepath.Join(out, name+".ko"), img, 0o644); err != nil {
			return err
		}
		rows = append(rows, name+" "+what)
		return nil
	}
	if err := write("good", "the module as built", m.ELF()); err != nil {
		return err
	}
	for _, l := range labels {
		c, ok := cases.ByLabel(l)
		if !ok {
			return fmt.Errorf("no case %q in the catalog", l)
		}
		made, err := c.Build(cases.Input{D: d, S: s, Orig: split})
		if err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		img, err := m.WithSections(made.Split, made.Base)
		if err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		if err := write(c.Name, made.What, img); err != nil {
			return err
		}
	}
	if kfunc != "" {
		img, what, err := badBTFIDs(m, kfunc)
		if err != nil {
			return err
		}
		if err := write("btf-ids-out-of-range", what, img); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "rows.txt"), []byte(strings.Join(rows, "\n")+"\n"), 0o644)
}

// badBTFIDs sets the .BTF_ids word holding kfunc's id (the symbol
// __BTF_ID__func__<kfunc>__<n> that resolve_btfids fills) to BadBTFID.
func badBTFIDs(m *kmod.Module, kfunc string) ([]byte, string, error) {
	ids, syms, ok, err := m.BTFIDs()
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("%s: no .BTF_ids", m.Name)
	}
	prefix := "__BTF_ID__func__" + kfunc + "__"
	n := 0
	var old uint32
	for _, y := range syms {
		if !strings.HasPrefix(y.Name, prefix) {
			continue
		}
		if y.Off+4 > uint64(len(ids)) {
			return nil, "", fmt.Errorf("%s: %s past .BTF_ids", m.Name, y.Name)
		}
		old = m.ByteOrder.Uint32(ids[y.Off:])
		m.ByteOrder.PutUint32(ids[y.Off:], BadBTFID)
		n++
	}
	if n == 0 {
		return nil, "", fmt.Errorf("%s: no %s* symbol in .BTF_ids", m.Name, prefix)
	}
	img, err := m.WithBTFSections(nil, nil, ids)
	if err != nil {
		return nil, "", err
	}
	return img, fmt.Sprintf(".BTF_ids: %d word(s) of kfunc %s's id %d set to %#x", n, kfunc, old, BadBTFID), nil
}
