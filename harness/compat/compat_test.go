package compat

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/report"
)

func base(t *testing.T, fooSize uint32) *btf.Spec {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	i := b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", fooSize, btf.Member{Name: "a", Type: i})
	s, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	build, run := base(t, 8), base(t, 16) // struct foo grew
	mk := func(f func(b *btf.Builder)) []byte {
		b := btf.NewBuilder(binary.LittleEndian, build)
		f(b)
		return b.Bytes()
	}
	mods := []corpus.Module{
		{Name: "points", Path: "kernel/a/points.ko.xz", BTF: mk(func(b *btf.Builder) { b.Ptr(2) })},
		{Name: "embeds", Path: "kernel/a/embeds.ko.xz", BTF: mk(func(b *btf.Builder) { b.Struct("mine", 8, btf.Member{Name: "f", Type: 2}) })},
		{Name: "embeds2", Path: "kernel/b/embeds2.ko.xz", BTF: mk(func(b *btf.Builder) { b.Struct("x", 8, btf.Member{Name: "f", Type: 2}) })},
		{Name: "skipped", Path: "kernel/c/skipped.ko.xz", BTF: mk(func(b *btf.Builder) { b.Ptr(1) })},
	}
	rep, err := Check(report.NewHeader("compat", "amd64", "A", "B", false), build, load.Kernel{Vmlinux: run, Order: binary.LittleEndian, AllowMismatch: true}, mods, func(n string) bool { return n != "skipped" })
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Summary; c.Keeps != 1 || c.Refused != 2 || c.Failed != 0 || c.Modules != 3 || len(rep.Modules) != 3 {
		t.Fatalf("summary %+v of %d", c, len(rep.Modules))
	}
	var out bytes.Buffer
	rep.WriteText(&out)
	want := "  2× embedded type's size differs from every base candidate: STRUCT 'foo' size=8 embedded (target\n" +
		"      has STRUCT size=16)\n      embeds embeds2\n"
	if !strings.Contains(out.String(), want) {
		t.Fatalf("report:\n%s\nwant a line:\n%s", out.String(), want)
	}
	if rep.Modules[1].Errno != -22 || rep.Modules[1].Verdict != "no-btf" {
		t.Fatalf("errno %d, verdict %s", rep.Modules[1].Errno, rep.Modules[1].Verdict)
	}
	// Where MODULE_ALLOW_BTF_MISMATCH is not set (Debian's 7.2), the same
	// refusal fails the module load.
	strict, err := Check(report.NewHeader("compat", "amd64", "A", "B", false), build, load.Kernel{Vmlinux: run, Order: binary.LittleEndian}, mods, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	strict.WriteText(&out)
	if strict.Modules[1].Verdict != "load-refused" || !strings.Contains(out.String(), "a refused module fails to load") {
		t.Fatalf("verdict %s, report:\n%s", strict.Modules[1].Verdict, out.String())
	}
}
