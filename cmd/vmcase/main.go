// Command vmcase prepares the patched-kernel VM scenario. Its inputs are two
// real builds of the same 6.1 source: the kernel that boots (-run-vmlinux)
// and another one (-build-vmlinux, a second config: its vmlinux BTF has other
// ids and string offsets), plus the test module built against the latter
// (-module). It distils the module's BTF with the model and writes module
// variants (objcopy does the ELF edits) and cases.txt, which boot-test.sh
// reads, one variant a line: "<variant> <expectation> <arg> <what>":
//
//	good        .BTF = distilled split, .BTF.base = distilled base, .BTF_ids
//	            re-resolved against the distilled numbering: relocated
//	stale       the module as built (split on the other base, no .BTF.base)
//	staleids    like good, but .BTF_ids left in the build's numbering
//	badids      like good, but the kfunc's .BTF_ids entry past the distilled
//	            numbering: the kfunc set is refused (arg: its errno)
//	native      the test module built against the running kernel itself
//	            (-native-module): no .BTF.base, BTF kept as it is, kfuncs
//	            registered through the path every module now takes
//	pahole      the test module built against the other build by kbuild with
//	            a real pahole >= 1.28 (-pahole-module): .BTF.base and
//	            .BTF_ids as the series' kbuild and resolve_btfids make them
//	oldhdr      the test module built against the UNPATCHED source's headers,
//	            configured as the running kernel (-oldhdr-module): where its
//	            .gnu.linkonce.this_module has no room for the members the
//	            series appends to struct module, the loader refuses it
//	            (arg -8, -ENOEXEC); where it has (the members fit in the tail
//	            padding), it loads and unloads (arg "loads"): every member it
//	            knows is where the patched kernel looks
//	<case>      every negative and hostile case of harness/cases built from
//	            the module (negative-renamed, hostile-truncated, ...):
//	            refused; arg: the errno the model gives (the kernel prints it
//	            in "failed to validate module [...] BTF: <errno>")
//
// With -same-base the two builds may be one (a KASAN run on a single
// build): the distilled variants are then relocated onto the vmlinux BTF
// they were distilled from, which still moves every id (the distilled
// numbering is not vmlinux's), and the stale variant, which would be the
// native module, is left out.
//
// For every variant that must load with BTF, <variant>.expected holds
// "<size> <sha256> <kfunc id> <arg> <retval>": the BTF /sys/kernel/btf/<mod>
// must serve (the model's relocation onto the running vmlinux BTF, which
// libbpf must give too) and the kfunc's id in it. The libbpf oracle is
// required: without it the expected bytes would rest on the model alone.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

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
	native := flag.String("native-module", "", "the test module built against -run-vmlinux (optional)")
	paholeMod := flag.String("pahole-module", "", "the test module built against -build-vmlinux with pahole >= 1.28 (optional)")
	oldhdr := flag.String("oldhdr-module", "", "the test module built against the unpatched headers, configured as -run-vmlinux (optional)")
	sameBase := flag.Bool("same-base", false, "the two builds may be one (-run-vmlinux = -build-vmlinux)")
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
	if bytes.Equal(b0raw, b1raw) && !*sameBase {
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
	lib, err := oracle.New()
	if err != nil {
		check(fmt.Errorf("the libbpf oracle is required to check the expected relocations (make oracle): %w", err))
	}
	// relocated is what the kernel must serve for a module with .BTF.base
	// (d, s) loaded on b0: the model's relocation, which libbpf must give
	// byte for byte.
	relocated := func(what string, d, s *btf.Spec) *btf.Spec {
		rel, _, err := recon.Relocate(d, s, b0)
		check(err)
		got, err := lib.Relocate(d.Marshal(), s.Marshal(), b0raw)
		check(err)
		if !bytes.Equal(got, rel.Marshal()) {
			check(fmt.Errorf("%s: libbpf and the model disagree on the expected relocation", what))
		}
		return rel
	}

	d, s2, err := recon.Distill(b1, s1)
	check(err)
	rel := relocated("good", d, s2)
	dRaw, s2Raw, relRaw := d.Marshal(), s2.Marshal(), rel.Marshal()
	fmt.Println("vmcase: libbpf agrees with the model")

	// .BTF_ids: as resolve_btfids does for a module with .BTF.base,
	// re-resolve against the distilled numbering (the split's own types
	// come first in the new split, in order).
	ids := remapBTFIDs(*module, b1, s1, d, s2, *kfunc)
	// the kfunc's id in the relocated BTF
	kfuncRel := relocatedID(b0, d, ids.kfunc)
	checkKfunc(rel, kfuncRel, *kfunc, "the relocation")

	write := func(name string, b []byte) string {
		p := filepath.Join(*out, name)
		check(os.WriteFile(p, b, 0o644))
		return p
	}
	expect := func(name string, btfRaw []byte, kid btf.TypeID) {
		sum := sha256.Sum256(btfRaw)
		write(name+".btf.expected", btfRaw)
		write(name+".expected", []byte(fmt.Sprintf("%d %s %d %d %d\n", len(btfRaw), hex.EncodeToString(sum[:]),
			kid, kfuncArg, kfuncArg+kfuncDelta)))
	}
	var lines []string
	line := func(name, expectation, arg, what string) {
		lines = append(lines, fmt.Sprintf("%s %s %s %s", name, expectation, arg, what))
	}
	variant := func(name, expectation, arg, what string, splitRaw, baseRaw, btfIDs []byte) {
		args := []string{"--update-section", ".BTF=" + write(name+".btf", splitRaw)}
		if baseRaw != nil {
			args = append(args, "--add-section", ".BTF.base="+write(name+".btf.base", baseRaw))
		}
		if btfIDs != nil {
			args = append(args, "--update-section", ".BTF_ids="+write(name+".btf_ids", btfIDs))
		}
		objcopy(*module, filepath.Join(*out, name+".ko"), args...)
		line(name, expectation, arg, what)
	}
	variant("good", "good", "-", "built on the other base, distilled .BTF.base: relocated", s2Raw, dRaw, ids.remapped)
	expect("good", relRaw, kfuncRel)
	if !bytes.Equal(b0raw, b1raw) {
		variant("stale", "stale", "-", "built on the other base, no .BTF.base (what 6.1's kbuild makes with pahole 1.24)", sraw, nil, ids.old)
	} else {
		fmt.Println("vmcase: one build for both: no stale variant (it would be the native module)")
	}
	variant("staleids", "staleids", "-", ".BTF.base, but .BTF_ids not re-resolved against the distilled numbering", s2Raw, dRaw, ids.old)
	// an id no type of the distilled numbering has: btf_relocate_id()
	// must refuse it, and with it the kfunc set (-EINVAL)
	bad := append([]byte(nil), ids.remapped...)
	badID := uint32(d.NumIDs()) + uint32(s2.NumLocal()) + 5
	ids.order.PutUint32(bad[ids.kfuncOff:], badID)
	variant("badids", "badids", fmt.Sprint(-int(syscall.EINVAL)),
		fmt.Sprintf("good, but the kfunc's .BTF_ids entry is [%d], past the distilled numbering", badID), s2Raw, dRaw, bad)

	if *native != "" {
		// built against the running kernel: its BTF is served as it is
		nraw := section(*native, ".BTF")
		ns, err := btf.ParseSplit(nraw, b0)
		check(err)
		if hasSection(*native, ".BTF.base") {
			check(fmt.Errorf("%s has a .BTF.base: not built by 6.1's kbuild with pahole 1.24", *native))
		}
		nids := readBTFIDs(*native, *kfunc)
		checkKfunc(ns, nids.kfunc, *kfunc, *native+"'s own BTF")
		copyFile(*native, filepath.Join(*out, "native.ko"))
		line("native", "good", "-", "built against the running kernel, no .BTF.base: BTF kept as built, kfunc set copied")
		expect("native", nraw, nids.kfunc)
	}
	if *paholeMod != "" {
		// built by the series' kbuild with pahole >= 1.28: .BTF.base from
		// pahole, .BTF_ids resolved against it by resolve_btfids
		if !hasSection(*paholeMod, ".BTF.base") {
			check(fmt.Errorf("%s has no .BTF.base: kbuild did not ask pahole for a distilled base", *paholeMod))
		}
		pd, err := btf.Parse(section(*paholeMod, ".BTF.base"))
		check(err)
		ps, err := btf.ParseSplit(section(*paholeMod, ".BTF"), pd)
		check(err)
		prel := relocated("pahole", pd, ps)
		pids := readBTFIDs(*paholeMod, *kfunc)
		checkKfunc(ps, pids.kfunc, *kfunc, *paholeMod+"'s .BTF_ids, in the distilled numbering")
		pk := relocatedID(b0, pd, pids.kfunc)
		checkKfunc(prel, pk, *kfunc, "the pahole module's relocation")
		copyFile(*paholeMod, filepath.Join(*out, "pahole.ko"))
		line("pahole", "good", "-", fmt.Sprintf("built by kbuild with pahole >= 1.28: .BTF.base of %d types from pahole, .BTF_ids from resolve_btfids",
			pd.NumLocal()))
		expect("pahole", prel.Marshal(), pk)
		fmt.Printf("vmcase: pahole module: distilled base %d types, split %d types, kfunc [%d] (distilled) -> [%d] (relocated)\n",
			pd.NumLocal(), ps.NumLocal(), pids.kfunc, pk)
	}

	if *oldhdr != "" {
		// struct module as the unpatched headers have it: the loader
		// writes btf_base_data{,_size} into the module's own copy
		have := sectionSize(*oldhdr, ".gnu.linkonce.this_module")
		end := memberEnd(b0, "module", "btf_base_data_size")
		size := structSize(b0, "module")
		copyFile(*oldhdr, filepath.Join(*out, "oldhdr.ko"))
		if have < end {
			line("oldhdr", "oldhdr", fmt.Sprint(-int(syscall.ENOEXEC)), fmt.Sprintf(
				"built against the unpatched headers: its struct module is %d bytes, the patched kernel's %d (new members end at %d)",
				have, size, end))
		} else {
			line("oldhdr", "oldhdr", "loads", fmt.Sprintf(
				"built against the unpatched headers: its struct module is %d bytes, the patched kernel's %d (new members end at %d, in the padding)",
				have, size, end))
		}
	}

	// Every negative and hostile case of the catalog: our patched kernel
	// must refuse each with the errno the model gives (and crash on none).
	in := cases.Input{D: d, S: s2, Orig: sraw, Target: b0}
	k := load.Kernel{Vmlinux: b0, Order: elfOrder(*runVmlinux)}
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
		p := load.Predict(k, made.Split, made.Base)
		if p.Outcome == load.KeepsBTF {
			check(fmt.Errorf("%s: the model keeps its BTF: not a refusal case", c.Label()))
		}
		variant(strings.ReplaceAll(c.Label(), ":", "-"), "refuse", fmt.Sprint(kernelErrno(p.Reason)), made.What,
			made.Split, made.Base, ids.remapped)
	}

	write("cases.txt", []byte(strings.Join(lines, "\n")+"\n"))
	sum := sha256.Sum256(relRaw)
	fmt.Printf("vmcase: running vmlinux BTF %d types, other base %d types (%d bytes vs %d); module split %d types on it; "+
		"distilled %d types; new split %d types; kfunc [%d] -> [%d] (distilled) -> [%d] (relocated); expected %d bytes sha256 %x\n",
		b0.NumLocal(), b1.NumLocal(), len(b0raw), len(b1raw), s1.NumLocal(), d.NumLocal(), s2.NumLocal(),
		ids.kfuncOrig, ids.kfunc, kfuncRel, len(relRaw), sum)
}

// kernelErrno is the errno 6.1 with the series gives for a refusal the
// model explains with reason: a relocation verdict carries its own (-EINVAL,
// -ENOENT for a split string naming no matched type, -ELOOP for a cycle);
// everything else is a malformed section, which the reconciler's and the
// BTF checks' parsing refuse with -EINVAL.
func kernelErrno(reason error) int {
	if e := recon.Errno(reason); e != 0 {
		return e
	}
	return -int(syscall.EINVAL)
}

// relocatedID is the id that distilled-numbering id has after relocation
// onto b0: a split type moves past b0's types.
func relocatedID(b0, d *btf.Spec, id btf.TypeID) btf.TypeID {
	return b0.NumIDs() + (id - d.NumIDs())
}

func checkKfunc(s *btf.Spec, id btf.TypeID, kfunc, where string) {
	if t, err := s.Type(id); err != nil || t.Kind() != btf.KindFunc || s.Name(t) != kfunc {
		check(fmt.Errorf("kfunc %s is not [%d] of %s", kfunc, id, where))
	}
}

// memberEnd is where member of the first struct called name in s ends, in
// bytes (a 4-byte member).
func memberEnd(s *btf.Spec, name, member string) uint32 {
	for i := range s.NumLocal() {
		t := s.Local(i)
		if t.Kind() != btf.KindStruct || s.Name(t) != name {
			continue
		}
		for m := range t.Vlen() {
			if n, err := s.String(t.W[3+3*m]); err == nil && n == member {
				return (t.W[5+3*m]&0xffffff)/8 + 4
			}
		}
		check(fmt.Errorf("struct %s has no member %s: is the series applied?", name, member))
	}
	check(fmt.Errorf("no struct %s", name))
	return 0
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

// btfIDs is a module's .BTF_ids: as built (old), with every id re-resolved
// against the distilled numbering (remapped), and where the kfunc's entry
// is (kfuncOff) with its id before (kfuncOrig) and after (kfunc).
type btfIDs struct {
	old, remapped    []byte
	kfuncOff         uint64
	kfuncOrig, kfunc btf.TypeID
	order            binary.ByteOrder
}

// btfIDSyms calls fn with the offset and id of every single-id symbol
// (__BTF_ID__<kind>__<name>__<n>, not the sets' headers) of the module's
// .BTF_ids, and returns the section and its byte order.
func btfIDSyms(module string, fn func(sym string, off uint64, id btf.TypeID)) ([]byte, binary.ByteOrder) {
	f, err := elf.Open(module)
	check(err)
	defer f.Close()
	sec := f.Section(".BTF_ids")
	if sec == nil {
		check(fmt.Errorf("%s: no .BTF_ids", module))
	}
	data, err := sec.Data()
	check(err)
	syms, err := f.Symbols()
	check(err)
	for _, sym := range syms {
		if int(sym.Section) >= len(f.Sections) || f.Sections[sym.Section] != sec ||
			!strings.HasPrefix(sym.Name, "__BTF_ID__") || strings.HasPrefix(sym.Name, "__BTF_ID__set") {
			continue
		}
		if sym.Value+4 > uint64(len(data)) {
			check(fmt.Errorf("%s: %s is past the end of .BTF_ids", module, sym.Name))
		}
		fn(sym.Name, sym.Value, btf.TypeID(f.ByteOrder.Uint32(data[sym.Value:])))
	}
	return data, f.ByteOrder
}

// remapBTFIDs re-resolves the module's .BTF_ids against the distilled
// numbering, as 6.12's resolve_btfids does for a module with .BTF.base.
func remapBTFIDs(module string, b1, s1, d, s2 *btf.Spec, kfunc string) btfIDs {
	var r btfIDs
	var edits []func([]byte)
	var order binary.ByteOrder
	old, order := btfIDSyms(module, func(sym string, off uint64, id btf.TypeID) {
		nid, err := load.DistilledID(b1, s1, d, s2, id)
		if err != nil {
			check(fmt.Errorf("%s: %s: %w", module, sym, err))
		}
		edits = append(edits, func(b []byte) { order.PutUint32(b[off:], uint32(nid)) })
		if strings.HasPrefix(sym, "__BTF_ID__func__"+kfunc+"__") {
			r.kfuncOff, r.kfuncOrig, r.kfunc = off, id, nid
		}
	})
	r.old, r.order = old, order
	r.remapped = append([]byte(nil), old...)
	for _, e := range edits {
		e(r.remapped)
	}
	if r.kfunc == 0 {
		check(fmt.Errorf("%s: kfunc %s not in .BTF_ids", module, kfunc))
	}
	return r
}

// readBTFIDs reads the kfunc's id from a module's .BTF_ids as built.
func readBTFIDs(module, kfunc string) btfIDs {
	var r btfIDs
	r.old, r.order = btfIDSyms(module, func(sym string, off uint64, id btf.TypeID) {
		if strings.HasPrefix(sym, "__BTF_ID__func__"+kfunc+"__") {
			r.kfuncOff, r.kfunc = off, id
		}
	})
	if r.kfunc == 0 {
		check(fmt.Errorf("%s: kfunc %s not in .BTF_ids (or unresolved)", module, kfunc))
	}
	return r
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

func sectionSize(path, name string) uint32 {
	f, err := elf.Open(path)
	check(err)
	defer f.Close()
	s := f.Section(name)
	if s == nil {
		check(fmt.Errorf("%s: no %s section", path, name))
	}
	return uint32(s.Size)
}

func hasSection(path, name string) bool {
	f, err := elf.Open(path)
	check(err)
	defer f.Close()
	return f.Section(name) != nil
}

func elfOrder(path string) binary.ByteOrder {
	f, err := elf.Open(path)
	check(err)
	defer f.Close()
	return f.ByteOrder
}

func copyFile(from, to string) {
	b, err := os.ReadFile(from)
	check(err)
	check(os.WriteFile(to, b, 0o644))
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
