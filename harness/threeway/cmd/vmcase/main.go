// Command vmcase prepares the patched-kernel VM scenario. From the booted
// kernel's vmlinux and a test module built against it, it makes a second,
// different base (the same types renumbered: anonymous types prepended),
// rebases the module's BTF onto it, distils that with the model, and writes
// module variants (objcopy does the ELF edits):
//
//	good.ko      .BTF = distilled split, .BTF.base = distilled base
//	stale.ko     .BTF = split on the other base, no .BTF.base (wrong or refused)
//	grew.ko      like good.ko, with an embedded struct grown in .BTF.base
//	hostile.ko   like good.ko, with a truncated, corrupt .BTF.base
//
// and expected.txt: the size and sha256 of the model's relocation of
// good.ko's BTF onto the running vmlinux BTF (which libbpf must agree with).
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

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/recon"
)

func main() {
	vmlinux := flag.String("vmlinux", "", "vmlinux ELF of the kernel that boots")
	module := flag.String("module", "", "test module built against it")
	out := flag.String("out", "", "output directory")
	pad := flag.Int("pad", 7, "types prepended to make the other base")
	flag.Parse()
	check(os.MkdirAll(*out, 0o755))

	b0raw := section(*vmlinux, ".BTF")
	sraw := section(*module, ".BTF")
	b0, err := btf.Parse(b0raw)
	check(err)
	s0, err := btf.ParseSplit(sraw, b0)
	check(err)

	// The other base: pad anonymous INTs, then B0's types with ids + pad.
	shift := btf.TypeID(*pad)
	var words []uint32
	for range *pad {
		words = append(words, 0, btf.MakeInfo(btf.KindInt, 0, false), 4, 32)
	}
	var f []int
	shifted := func(t btf.Type) []uint32 {
		w := append([]uint32(nil), t.W...)
		for _, k := range t.IDFields(f[:0]) {
			if w[k] != 0 {
				w[k] += uint32(shift)
			}
		}
		return w
	}
	for i := range b0.NumLocal() {
		words = append(words, shifted(b0.Local(i))...)
	}
	b1, err := btf.Parse(encode(b0.Order(), words, b0.Strings()))
	check(err)
	words = nil
	for i := range s0.NumLocal() {
		words = append(words, shifted(s0.Local(i))...)
	}
	s1, err := btf.ParseSplit(encode(s0.Order(), words, s0.Strings()), b1)
	check(err)

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
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(*out, name)
		check(os.WriteFile(p, b, 0o644))
		return p
	}
	// An embedded distilled struct that grew: the module's layout no longer fits.
	grown := d.Copy()
	grewName := ""
	embedded, err := recon.Embedded(d, s2)
	check(err)
	for _, e := range embedded {
		t := grown.Local(int(e - 1))
		t.W[2] += 8
		grewName = d.Name(t)
		break
	}
	if grewName == "" {
		check(fmt.Errorf("the test module embeds no distilled struct"))
	}
	hostile := append([]byte(nil), dRaw[:len(dRaw)-len(dRaw)/3]...)
	hostile[8] ^= 0xff // type_off

	objcopy(*module, filepath.Join(*out, "good.ko"), "--update-section", ".BTF="+write("good.btf", s2Raw),
		"--add-section", ".BTF.base="+write("good.btf.base", dRaw))
	objcopy(*module, filepath.Join(*out, "stale.ko"), "--update-section", ".BTF="+write("stale.btf", s1.Marshal()))
	objcopy(*module, filepath.Join(*out, "grew.ko"), "--update-section", ".BTF="+filepath.Join(*out, "good.btf"),
		"--add-section", ".BTF.base="+write("grew.btf.base", grown.Marshal()))
	objcopy(*module, filepath.Join(*out, "hostile.ko"), "--update-section", ".BTF="+filepath.Join(*out, "good.btf"),
		"--add-section", ".BTF.base="+write("hostile.btf.base", hostile))
	write("expected.btf", relRaw)
	sum := sha256.Sum256(relRaw)
	write("expected.txt", []byte(fmt.Sprintf("%d %s\n", len(relRaw), hex.EncodeToString(sum[:]))))
	fmt.Printf("vmcase: vmlinux BTF %d types; other base +%d; distilled %d types; split %d types; grew '%s'; expected %d bytes sha256 %x\n",
		b0.NumLocal(), *pad, d.NumLocal(), s2.NumLocal(), grewName, len(relRaw), sum)
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

func objcopy(in, out string, args ...string) {
	cmd := exec.Command("objcopy", append(args, in, out)...)
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
