// Command vmcase prepares the patched-kernel VM scenario. Its inputs are two
// real builds of the same 6.1 source: the kernel that boots (-run-vmlinux)
// and another one (-build-vmlinux, a second config: its vmlinux BTF has other
// ids and string offsets), plus the test module built against the latter
// (-module). It distils the module's BTF with the model and writes module
// variants (objcopy does the ELF edits) and cases.txt, which boot-test.sh
// reads ("<variant> <expectation> <what>"):
//
//	good        .BTF = distilled split, .BTF.base = distilled base, .BTF_ids
//	            re-resolved against the distilled numbering: relocated
//	stale       the module as built (split on the other base, no .BTF.base)
//	staleids    like good, but .BTF_ids left in the build's numbering
//	<case>      every negative and hostile case of harness/cases built from
//	            the module (negative-renamed, hostile-truncated, ...): refused
//
// and expected.txt: "<size> <sha256> <kfunc id> <arg> <retval>": the model's
// relocation of good's BTF onto the running vmlinux BTF (libbpf must agree),
// and the test kfunc's id in it.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/recon"
)

const (
	kfuncArg   = 1000
	kfuncDelta = 0x600d // btfrecon_test_kfunc(x) returns x + 0x600d
)

func main() {
	runVmlinux := flag.String("run-vmlinux", "", "vmlinux ELF of the kernel that boots")
	buildVmlinux := flag.String("build-vmlinux", "", "vmlinux ELF of the other build the module was built against")
	module := flag.String("module", "", "test module built against -build-vmlinux")
	kfunc := flag.String("kfunc", "btfrecon_test_kfunc", "the module's kfunc")
	out := flag.String("out", "", "output directory")
	flag.StringVar(&objcopyBin, "objcopy", "objcopy", "objcopy for the module's architecture")
	flag.Parse()
	check(os.MkdirAll(*out, 0o755))

	b0raw := section(*runVmlinux, ".BTF")
	b1raw := section(*buildVmlinux, ".BTF")
	sraw := section(*module, ".BTF")
	b0, err := btf.Parse(b0raw)
	check(err)
	b1, err := btf.Parse(b1raw)
	check(err)
	s1, err := btf.ParseSplit(sraw, b1)
	check(err)
	if bytes.Equal(b0raw, b1raw) {
		check(fmt.Errorf("the two vmlinux BTFs are identical: no other base"))
	}
	// The module's code and its struct module (.gnu.linkonce.this_module)
	// come from the other build: both kernels must agree on that layout,
	// or the loader reads garbage (vermagic does not see config changes).
	for _, n := range []string{"module", "list_head", "spinlock"} {
		s0, s1 := structSize(b0, n), structSize(b1, n)
		if s0 != s1 || (n == "module" && s0 == 0) {
			check(fmt.Errorf("struct %s: %d bytes on the running kernel, %d on the other build: the module cannot run there", n, s0, s1))
		}
	}

	d, s2, err := recon.Distill(b1, s1)
	check(err)
	rel, _, err := recon.Relocate(d, s2, b0)
	check(err)
	dRaw, s2Raw, relRaw := d.Marshal(), s2.Marshal(), rel.Marshal()
	if o, err := oracle.New(); err == nil {
		lib, err := o.Relocate(dRaw, s2Raw, b0raw)
		check(err)
		if !bytes.Equal(lib, relRaw) {
			check(fmt.Errorf("libbpf and the model disagree on the expected relocation"))
		}
		fmt.Println("vmcase: libbpf agrees with the model")
	} else {
		fmt.Println("vmcase: no libbpf oracle:", err)
	}

	// .BTF_ids: as resolve_btfids does for a module with .BTF.base,
	// re-resolve against the distilled numbering (the split's own types
	// come first in the new split, in order).
	idsOld, idsNew, kfuncDist := remapBTFIDs(*module, b1, s1, d, s2, *kfunc)
	// the kfunc's id in the relocated BTF
	kfuncRel := b0.NumIDs() + (kfuncDist - d.NumIDs())
	if t, err := rel.Type(kfuncRel); err != nil || t.Kind() != btf.KindFunc || rel.Name(t) != *kfunc {
		check(fmt.Errorf("kfunc %s is not [%d] of the relocation", *kfunc, kfuncRel))
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(*out, name)
		check(os.WriteFile(p, b, 0o644))
		return p
	}
	var lines []string
	variant := func(name, expect, what string, splitRaw, baseRaw, ids []byte) {
		args := []string{"--update-section", ".BTF=" + write(name+".btf", splitRaw)}
		if baseRaw != nil {
			args = append(args, "--add-section", ".BTF.base="+write(name+".btf.base", baseRaw))
		}
		if ids != nil {
			args = append(args, "--update-section", ".BTF_ids="+write(name+".btf_ids", ids))
		}
		objcopy(*module, filepath.Join(*out, name+".ko"), args...)
		lines = append(lines, fmt.Sprintf("%s %s %s", name, expect, what))
	}
	variant("good", "good", "built on the other base, distilled .BTF.base: relocated", s2Raw, dRaw, idsNew)
	variant("stale", "stale", "built on the other base, no .BTF.base (what 6.1's kbuild makes)", sraw, nil, idsOld)
	variant("staleids", "staleids", ".BTF.base, but .BTF_ids not re-resolved against the distilled numbering", s2Raw, dRaw, idsOld)

	// Every negative and hostile case of the catalog: our patched kernel
	// must refuse each (and crash on none).
	in := cases.Input{D: d, S: s2, Orig: sraw, Target: b0}
	for _, c := range cases.Module() {
		if c.Class == cases.Stale {
			continue
		}
		made, err := c.Build(in)
		if errors.Is(err, cases.ErrNotApplicable) {
			fmt.Printf("vmcase: %s: %v\n", c.Label(), err)
			continue
		}
		check(err)
		variant(strings.ReplaceAll(c.Label(), ":", "-"), "refuse", made.What, made.Split, made.Base, idsNew)
	}

	write("expected.btf", relRaw)
	sum := sha256.Sum256(relRaw)
	write("expected.txt", []byte(fmt.Sprintf("%d %s %d %d %d\n", len(relRaw), hex.EncodeToString(sum[:]),
		kfuncRel, kfuncArg, kfuncArg+kfuncDelta)))
	write("cases.txt", []byte(strings.Join(lines, "\n")+"\n"))
	fmt.Printf("vmcase: running vmlinux BTF %d types, other base %d types (%d bytes vs %d); module split %d types on it; "+
		"distilled %d types; new split %d types; kfunc [%d] -> [%d] (distilled) -> [%d] (relocated); expected %d bytes sha256 %x\n",
		b0.NumLocal(), b1.NumLocal(), len(b0raw), len(b1raw), s1.NumLocal(), d.NumLocal(), s2.NumLocal(),
		b1.NumIDs()+(kfuncDist-d.NumIDs()), kfuncDist, kfuncRel, len(relRaw), sum)
}

// structSize is the size of the first struct called name in s, or 0.
func structSize(s *btf.Spec, name string) uint32 {
	for i := range s.NumLocal() {
		if t := s.Local(i); t.Kind() == btf.KindStruct && s.Name(t) == name {
			return t.SizeType()
		}
	}
	return 0
}

// remapBTFIDs returns the module's .BTF_ids section as built and with every
// id re-resolved against the distilled numbering, and the kfunc's
// distilled-numbering id.
func remapBTFIDs(module string, b1, s1, d, s2 *btf.Spec, kfunc string) (old, remapped []byte, kfuncID btf.TypeID) {
	f, err := elf.Open(module)
	check(err)
	defer f.Close()
	sec := f.Section(".BTF_ids")
	if sec == nil {
		check(fmt.Errorf("%s: no .BTF_ids", module))
	}
	old, err = sec.Data()
	check(err)
	remapped = append([]byte(nil), old...)
	syms, err := f.Symbols()
	check(err)
	for _, sym := range syms {
		if int(sym.Section) >= len(f.Sections) || f.Sections[sym.Section] != sec ||
			!strings.HasPrefix(sym.Name, "__BTF_ID__") || strings.HasPrefix(sym.Name, "__BTF_ID__set") {
			continue
		}
		off := sym.Value
		id := btf.TypeID(f.ByteOrder.Uint32(old[off:]))
		nid, err := load.DistilledID(b1, s1, d, s2, id)
		if err != nil {
			check(fmt.Errorf("%s: %s: %w", module, sym.Name, err))
		}
		t2, _ := s2.Type(nid)
		f.ByteOrder.PutUint32(remapped[off:], uint32(nid))
		if t2.Kind() == btf.KindFunc && s2.Name(t2) == kfunc {
			kfuncID = nid
		}
	}
	if kfuncID == 0 {
		check(fmt.Errorf("%s: kfunc %s not in .BTF_ids", module, kfunc))
	}
	return old, remapped, kfuncID
}

func section(path, name string) []byte {
	f, err := elf.Open(path)
	check(err)
	defer f.Close()
	s := f.Section(name)
	if s == nil {
		check(fmt.Errorf("%s: no %s section", path, name))
	}
	b, err := s.Data()
	check(err)
	return b
}

var objcopyBin = "objcopy"

func objcopy(in, out string, args ...string) {
	cmd := exec.Command(objcopyBin, append(args, in, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		check(fmt.Errorf("objcopy %v: %v: %s", args, err, b))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmcase:", err)
		os.Exit(1)
	}
}
