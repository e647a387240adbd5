package kfunccall

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		console string
		want    Result
	}{
		{"[    1.2] x\r\nKCALL begin\r\nKCALL load ok\r\nKCALL btf 2\r\nKCALL call 125108 retval 25589\r\nKCALL end\r\n",
			Result{Loaded: true, BTFID: 2, Called: true, Retval: 25589}},
		{"KCALL load ok\nKCALL btf 2\nKCALL call 125110 refused: Permission denied: calling kernel function btfrecon_kfuncset_get is not allowed\n",
			Result{Loaded: true, BTFID: 2, Refused: "Permission denied: calling kernel function btfrecon_kfuncset_get is not allowed"}},
		{"KCALL load failed: Exec format error\n", Result{LoadErr: "Exec format error"}},
		{"KCALL load ok\nKCALL btf none\n", Result{Loaded: true}},
		{"no init at all\n", Result{}},
	} {
		got := Parse(tc.console)
		got.Boot = nil
		if *got != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.console, *got, tc.want)
		}
	}
}

// The initramfs is newc cpio as the kernel reads it: checked with cpio(1)
// when it is installed (the kernel-patch scripts use it too).
func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kcall")
	if err := os.WriteFile(kc, []byte("ELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	bb := filepath.Join(dir, "busybox")
	if err := os.WriteFile(bb, []byte("busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := Busybox
	Busybox = bb
	defer func() { Busybox = old }()
	img, err := initramfs(kc, []byte("module bytes"), Call{Name: "m", Flags: 3, ID: 7, Arg: -1})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%4 != 0 || !bytes.HasPrefix(raw, []byte("070701")) || !bytes.Contains(raw, []byte("TRAILER!!!\x00")) {
		t.Fatalf("not newc: %q...", raw[:min(len(raw), 120)])
	}
	for _, want := range []string{"/kcall /m.ko 3 m 7 -1\n", "module bytes", "dev/console\x00"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %q in the archive", want)
		}
	}
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -it: %v", err)
		}
		if got, want := strings.Fields(string(out)), []string{"bin", "dev", "proc", "sys", "dev/console", "bin/busybox", "kcall", "m.ko", "init"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("cpio -it: %v, want %v", got, want)
		}
	}
	if _, err := initramfs(kc, nil, Call{Name: "m; reboot"}); err == nil || !strings.Contains(err.Error(), "bad module name") {
		t.Errorf("a name with shell syntax: %v", err)
	}
}
