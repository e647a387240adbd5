package vm

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
)

// readNewc lists the entries of concatenated newc archives.
func readNewc(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; off+110 <= len(b); {
		if b[off] == 0 { // padding between archives
			off++
			continue
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("offset %d: magic %q", off, h[:6])
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return int(v)
		}
		size, nameLen := field(6), field(11)
		name := string(b[off+110 : off+110+nameLen-1])
		data := off + align(110+nameLen)
		out[name] = b[data : data+size]
		off = data + align(size)
	}
	return out
}

func TestWithGuestTest(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.cpio")
	var a bytes.Buffer
	writeNewc(&a, "init", 0o100755, []byte("#!/bin/sh\n"))
	writeNewc(&a, "TRAILER!!!", 0, nil)
	a.WriteString("\x00\x00") // a base whose length is not a multiple of 4
	if err := os.WriteFile(base, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gotest.test")
	payload := []byte("ELF and then some bytes")
	if err := os.WriteFile(bin, payload, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "boot.cpio")
	if err := WithGuestTest(base, bin, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, b)
	if string(got["init"]) != "#!/bin/sh\n" || !bytes.Equal(got[GuestTestPath[1:]], payload) {
		t.Fatalf("entries: %q", got)
	}
}

// TestBuildInitramfs builds the initramfs through the mkinitramfs helper into
// a scratch cache and reads it back: u-root's init, the busybox with
// vmtest's commands, the uinit line, and the 9p modules equal to what xz(1)
// inflates from the kernel package. It compiles u-root (20-70 s), so it runs
// with the VM tests.
func TestBuildInitramfs(t *testing.T) {
	if os.Getenv("BTFRECON_VM") != "1" {
		t.Skip("compiles u-root: run with BTFRECON_VM=1 (make vm-test)")
	}
	xzPath, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("no xz(1) to inflate the modules independently")
	}
	k := realdata.Kernel(t, "6.12.117", "amd64")
	src, err := SourceRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BTFRECON_CACHE", t.TempDir())
	var progress bytes.Buffer
	out, err := BuildInitramfs(context.Background(), k, src, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.Bytes())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, b)
	for _, name := range []string{"bbin/bb", "bbin/init", "bbin/shutdownafter", "bbin/vmmount", "init"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s in the archive", name)
		}
	}
	if elf := got["bbin/bb"]; len(elf) < 20 || string(elf[:4]) != "\x7fELF" || binary.LittleEndian.Uint16(elf[18:]) != 62 {
		t.Errorf("bbin/bb is not an x86-64 ELF")
	}
	// u-root's uinit: a symlink to the command, its arguments quoted one a
	// line in etc/uinit.flags.
	if l := string(got["bin/uinit"]); l != "../bbin/shutdownafter" {
		t.Errorf("bin/uinit -> %q, want ../bbin/shutdownafter", l)
	}
	var flags []string
	for _, a := range append([]string{"--", "vmmount", "--", GuestTestPath}, guestTestArgs...) {
		flags = append(flags, strconv.Quote(a))
	}
	if f, want := string(got["etc/uinit.flags"]), strings.Join(flags, "\n"); f != want {
		t.Errorf("etc/uinit.flags %q, want %q", f, want)
	}
	for i, name := range NinePModules {
		p, err := k.Module(name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := exec.Command(xzPath, "-dc", p).Output()
		if err != nil {
			t.Fatalf("xz -dc %s: %v", p, err)
		}
		entry := "lib/modules/0" + strconv.Itoa(i+1) + "-" + name + ".ko"
		if !bytes.Equal(got[entry], want) {
			t.Errorf("%s: %d bytes, want the %d xz inflates from %s", entry, len(got[entry]), len(want), p)
		}
	}
	// A second call finds it in the cache.
	again, err := BuildInitramfs(context.Background(), k, src, nil)
	if err != nil || again != out {
		t.Fatalf("second build: %q, %v; want the cached %q", again, err, out)
	}
}

func TestFindNote(t *testing.T) {
	var b bytes.Buffer
	note := func(name string, typ uint32, desc []byte) {
		le := func(v uint32) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
		le(uint32(len(name) + 1))
		le(uint32(len(desc)))
		le(typ)
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(desc)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	note("GNU", 3, make([]byte, 20))
	note("Xen", 6, []byte("linux\x00"))
	if ok, err := findNote(b.Bytes(), le32, "Xen", xenElfnotePhys32Entry); ok || err != nil {
		t.Fatalf("no PVH note yet: %v %v", ok, err)
	}
	note("Xen", xenElfnotePhys32Entry, []byte{0, 0x10, 0, 1, 0, 0, 0, 0})
	if ok, err := findNote(b.Bytes(), le32, "Xen", xenElfnotePhys32Entry); !ok || err != nil {
		t.Fatalf("PVH note: %v %v", ok, err)
	}
	if _, err := findNote(b.Bytes()[:b.Len()-6], le32, "Xen", 99); err == nil {
		t.Fatal("truncated notes: want an error")
	}
	if hasPVHEntry([]byte("not an ELF")) {
		t.Fatal("hasPVHEntry(garbage)")
	}
}

var le32 = binary.LittleEndian
