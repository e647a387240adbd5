package vm_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// vmTests guards the tests that boot a VM: `go test ./...` stays fast and
// VM-free; `make vm-test` sets BTFRECON_VM=1.
func vmTests(t testing.TB) {
	if os.Getenv("BTFRECON_VM") != "1" {
		t.Skip("boots a VM: run with BTFRECON_VM=1 (make vm-test)")
	}
}

// TestBootReturnsBytes boots Debian 6.12.117 with the u-root initramfs and
// no modules to load, and checks that /sys/kernel/btf/vmlinux comes back
// over 9p byte for byte equal to the package's vmlinux BTF.
func TestBootReturnsBytes(t *testing.T) {
	vmTests(t)
	k := realdata.Kernel(t, "6.12.117", "amd64")
	src, err := vm.SourceRoot()
	if err != nil {
		t.Fatal(err)
	}
	share := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b, err := vm.RunPlan(ctx, k, src, share, &gotest.Plan{CopyVmlinux: true}, testWriter{t}, vm.Timeout(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accel %s (%s), boot %.1f s, prepare %.1f s", b.Accel, b.AccelNote, b.Seconds, b.PrepareSeconds)
	if !b.Complete() {
		t.Fatalf("boot %s: %s\nconsole:\n%s", b.Verdict, b.Detail, b.Console)
	}
	got, err := b.ReadFile(gotest.VmlinuxOut)
	if err != nil {
		t.Fatal(err)
	}
	want, err := k.VmlinuxBTF()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("guest /sys/kernel/btf/vmlinux: %d bytes, differs from the package's %d", len(got), len(want))
	}
	t.Logf("uname %s, /sys/kernel/btf/vmlinux %d bytes identical to the package's", b.Start.Uname, len(got))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
