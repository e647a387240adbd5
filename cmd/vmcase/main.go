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
//	grew        an embedded distilled struct grew            (refuse)
//	renamed     a distilled struct renamed                   (refuse)
//	ambiguous   a distilled struct given a name and size that two types
//	            of the running kernel match                  (refuse)
//	h-endian    .BTF.base in the other byte order            (refuse)
//	h-trunc     .BTF.base truncated                          (refuse)
//	h-kind      .BTF.base holding a TYPEDEF                  (refuse)
//	h-baseid    .BTF.base member id out of range             (refuse)
//	h-splitid   .BTF (split) member id out of range: upstream 6.12.117
//	            dereferences it in btf_relocate_map_distilled_base (refuse)
//
// and expected.txt: "<size> <sha256> <kfunc id> <arg> <retval>": the model's
// relocation of good's BTF onto the running vmlinux BTF (libbpf must agree),
// and the test kfunc's id in it.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
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
	embedded, err := recon.Embedded(d, s2)
	check(err)
	isEmb := map[btf.TypeID]bool{}
	for _, e := range embedded {
		isEmb[e] = true
	}
	var embStruct, ptrStruct btf.TypeID // an embedded and a non-embedded distilled composite
	for i := range d.NumLocal() {
		t := d.Local(i)
		if t.Kind() != btf.KindStruct && t.Kind() != btf.KindUnion {
			continue
		}
		if isEmb[t.ID] && embStruct == 0 && t.SizeType() > 0 {
			embStruct = t.ID
		}
		if !isEmb[t.ID] && ptrStruct == 0 {
			ptrStruct = t.ID
		}
	}
	if embStruct == 0 || ptrStruct == 0 {
		check(fmt.Errorf("the test module must embed a non-empty kernel struct and point to another"))
	}
	local := func(s *btf.Spec, id btf.TypeID) btf.Type { return s.Local(int(id - s.FirstID())) }

	var cases []string
	variant := func(name, expect, what string, splitRaw, baseRaw, ids []byte) {
		args := []string{"--update-section", ".BTF=" + write(name+".btf", splitRaw)}
		if baseRaw != nil {
			args = append(args, "--add-section", ".BTF.base="+write(name+".btf.base", baseRaw))
		}
		if ids != nil {
			args = append(args, "--update-section", ".BTF_ids="+write(name+".btf_ids", ids))
		}
		objcopy(*module, filepath.Join(*out, name+".ko"), args...)
		cases = append(cases, fmt.Sprintf("%s %s %s", name, expect, what))
	}
	variant("good", "good", "built on the other base, distilled .BTF.base: relocated", s2Raw, dRaw, idsNew)
	variant("stale", "stale", "built on the other base, no .BTF.base (what 6.1's kbuild makes)", sraw, nil, idsOld)
	variant("staleids", "staleids", ".BTF.base, but .BTF_ids not re-resolved against the distilled numbering", s2Raw, dRaw, idsOld)

	// Negative: a distilled base that does not fit the running kernel.
	grown := d.Copy()
	local(grown, embStruct).W[2] += 8
	variant("grew", "refuse", fmt.Sprintf("embedded struct '%s' grew by 8 bytes", d.Name(local(d, embStruct))),
		s2Raw, grown.Marshal(), idsNew)

	oldName := d.Name(local(d, ptrStruct))
	renamed := withName(d, ptrStruct, oldName+"_x", 0)
	variant("renamed", "refuse", fmt.Sprintf("struct '%s' renamed '%s_x'", oldName, oldName), s2Raw, renamed, idsNew)

	if name, size, why := ambiguousName(b0); name != "" {
		amb := withName(d, ptrStruct, name, size)
		variant("ambiguous", "refuse", fmt.Sprintf("struct '%s' renamed '%s' size %d: %s in vmlinux", oldName, name, size, why),
			s2Raw, amb, idsNew)
	} else {
		fmt.Println("vmcase: the running vmlinux BTF has no name with two same-size candidates: no ambiguous case")
	}

	// Hostile .BTF.base and .BTF.
	dw, doffs := d.Words()
	variant("h-endian", "refuse", ".BTF.base in the other byte order",
		s2Raw, encode(otherOrder(d.Order()), dw[doffs[0]:], d.Strings()), idsNew)
	variant("h-trunc", "refuse", ".BTF.base truncated to two thirds", s2Raw, dRaw[:len(dRaw)*2/3], idsNew)
	kinded := d.Copy()
	pt := local(kinded, ptrStruct) // 3 words, as a TYPEDEF
	pt.W[1] = btf.MakeInfo(btf.KindTypedef, 0, false)
	pt.W[2] = 0
	variant("h-kind", "refuse", fmt.Sprintf(".BTF.base holds a TYPEDEF '%s'", oldName), s2Raw, kinded.Marshal(), idsNew)
	var words []uint32
	for i := range d.NumLocal() {
		t := d.Local(i)
		if t.ID != ptrStruct {
			words = append(words, t.W...)
			continue
		}
		words = append(words, t.W[0], btf.MakeInfo(t.Kind(), 1, false), t.W[2], 0, 0xffff, 0)
	}
	variant("h-baseid", "refuse", fmt.Sprintf(".BTF.base struct '%s' has a member of type id 65535", oldName),
		s2Raw, encode(d.Order(), words, d.Strings()), idsNew)
	bad := s2.Copy()
	badID := btf.TypeID(0)
	for i := range bad.NumLocal() {
		t := bad.Local(i)
		if (t.Kind() == btf.KindStruct || t.Kind() == btf.KindUnion) && t.Vlen() > 0 {
			badID = s2.NumIDs() + 1000
			t.W[4] = uint32(badID)
			break
		}
	}
	if badID == 0 {
		check(fmt.Errorf("the module's split BTF has no struct with members"))
	}
	variant("h-splitid", "refuse", fmt.Sprintf(".BTF member type id %d (split ends at %d): oopses 6.12.117", badID, s2.NumIDs()-1),
		bad.Marshal(), dRaw, idsNew)

	write("expected.btf", relRaw)
	sum := sha256.Sum256(relRaw)
	write("expected.txt", []byte(fmt.Sprintf("%d %s %d %d %d\n", len(relRaw), hex.EncodeToString(sum[:]),
		kfuncRel, kfuncArg, kfuncArg+kfuncDelta)))
	write("cases.txt", []byte(strings.Join(cases, "\n")+"\n"))
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
		if id < b1.NumIDs() {
			check(fmt.Errorf("%s: %s = [%d], a vmlinux id: not handled by this test", module, sym.Name, id))
		}
		nid := d.NumIDs() + (id - b1.NumIDs())
		t1, err := s1.Type(id)
		check(err)
		t2, err := s2.Type(nid)
		check(err)
		if t1.Kind() != t2.Kind() || s1.Name(t1) != s2.Name(t2) {
			check(fmt.Errorf("%s: [%d] '%s' is not [%d] after distilling", sym.Name, id, s1.Name(t1), nid))
		}
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

// withName returns raw distilled BTF with type id renamed (a new string) and,
// if size is not 0, resized.
func withName(d *btf.Spec, id btf.TypeID, name string, size uint32) []byte {
	c := d.Copy()
	t := c.Local(int(id - c.FirstID()))
	t.W[0] = uint32(len(c.Strings()))
	if size != 0 {
		t.W[2] = size
	}
	w, offs := c.Words()
	return encode(c.Order(), w[offs[0]:], append(append([]byte(nil), c.Strings()...), append([]byte(name), 0)...))
}

// ambiguousName finds a name and size for which a non-embedded distilled
// struct would have two accepted candidates in b. Such a struct is accepted
// by any keyed type of its name (no kind check): a composite keyed by name
// alone when its name is unique among composites and by name and size
// otherwise, a FWD by name, an INT/FLOAT/ENUM/ENUM64 by name and size.
func ambiguousName(b *btf.Spec) (string, uint32, string) {
	type info struct {
		comps   []uint32
		scalars map[uint32][]string
		fwds    int
	}
	names := map[string]*info{}
	var order []string
	for i := range b.NumLocal() {
		t := b.Local(i)
		if t.NameOff() == 0 {
			continue
		}
		n := b.Name(t)
		in := names[n]
		if in == nil {
			in = &info{scalars: map[uint32][]string{}}
			names[n] = in
			order = append(order, n)
		}
		switch t.Kind() {
		case btf.KindStruct, btf.KindUnion:
			in.comps = append(in.comps, t.SizeType())
		case btf.KindFwd:
			in.fwds++
		case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64:
			in.scalars[t.SizeType()&0x7fffffff] = append(in.scalars[t.SizeType()&0x7fffffff], t.Kind().String())
		}
	}
	for _, n := range order {
		in := names[n]
		sizes := map[uint32]bool{}
		for _, c := range in.comps {
			sizes[c] = true
		}
		for sz := range in.scalars {
			sizes[sz] = true
		}
		for _, sz := range sortedKeys(sizes) {
			var what []string
			for _, c := range in.comps {
				if len(in.comps) == 1 || c == sz {
					what = append(what, fmt.Sprintf("composite size %d", c))
				}
			}
			what = append(what, in.scalars[sz]...)
			for range in.fwds {
				what = append(what, "FWD")
			}
			if len(what) >= 2 {
				return n, sz, fmt.Sprintf("'%s' is %s", n, strings.Join(what, " and "))
			}
		}
	}
	return "", 0, ""
}

func sortedKeys(m map[uint32]bool) []uint32 {
	var k []uint32
	for x := range m {
		k = append(k, x)
	}
	sort.Slice(k, func(i, j int) bool { return k[i] < k[j] })
	return k
}

func otherOrder(bo binary.ByteOrder) binary.ByteOrder {
	if bo == binary.ByteOrder(binary.LittleEndian) {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// encode writes raw BTF with libbpf's 24-byte header.
func encode(bo binary.ByteOrder, words []uint32, strs []byte) []byte {
	b := make([]byte, 24+4*len(words)+len(strs))
	bo.PutUint16(b[0:], 0xeb9f)
	b[2] = 1
	bo.PutUint32(b[4:], 24)
	bo.PutUint32(b[8:], 0)
	bo.PutUint32(b[12:], uint32(4*len(words)))
	bo.PutUint32(b[16:], uint32(4*len(words)))
	bo.PutUint32(b[20:], uint32(len(strs)))
	for i, w := range words {
		bo.PutUint32(b[24+4*i:], w)
	}
	copy(b[24+4*len(words):], strs)
	return b
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
