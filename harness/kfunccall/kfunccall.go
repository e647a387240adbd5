// Package kfunccall calls a module's kfunc by BTF id on a real kernel: one
// QEMU boot (harness/vm) of a small busybox initramfs whose init loads the
// module with finit_module and runs kcall (guest/kcall.c, built static on the
// host), which loads a BPF_PROG_TYPE_SYSCALL program calling the kfunc with
// that id of the module's BTF and runs it (BPF_PROG_TEST_RUN).
//
// For a module built on a distilled base the id to call is the one the
// module's BTF has after the kernel relocated it (what
// /sys/kernel/btf/<module> numbers it, and what the model predicts); the
// call only passes the verifier if the kernel registered the module's kfunc
// set under that id, i.e. mapped the set's .BTF_ids through the relocation
// (btf_relocate_id).
package kfunccall

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/vm"
)

//go:embed guest/kcall.c
var kcallSource []byte

// Busybox is the static busybox put into the initramfs (Debian's
// busybox-static).
var Busybox = "/bin/busybox"

// Call is one kfunc call.
type Call struct {
	Module string // the .ko to load
	Name   string // its name as the kernel gives it (its BTF object's name)
	Flags  int    // finit_module flags (3: ignore modversions and vermagic)
	ID     uint32 // the kfunc's BTF id in the module's relocated BTF
	Arg    int32  // r1
}

// Result is what the guest said.
type Result struct {
	Loaded  bool
	LoadErr string
	BTFID   uint32 // the module's BTF object id, 0 when it has none
	Called  bool
	Retval  uint32
	Refused string // the verifier's (or test run's) refusal
	Boot    *vm.Result
}

// Run boots k and makes the call. Only amd64 guests: kcall is built with the
// host's gcc.
func Run(ctx context.Context, k *kernels.Kernel, c Call, opts ...vm.Option) (*Result, error) {
	if k.Arch != "amd64" {
		return nil, fmt.Errorf("kfunccall: %s: only amd64 guests", k)
	}
	dir, err := cache.Sub("kfunccall")
	if err != nil {
		return nil, err
	}
	kcall, err := buildKcall(ctx, dir)
	if err != nil {
		return nil, err
	}
	mod, err := os.ReadFile(c.Module)
	if err != nil {
		return nil, err
	}
	img, err := initramfs(kcall, mod, c)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "initramfs-*.cpio.gz")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(img); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	kernel, err := k.Vmlinuz()
	if err != nil {
		return nil, err
	}
	all := []vm.Option{vm.Arch(k.Arch), vm.Kernel(kernel), vm.Initramfs(f.Name()), vm.Timeout(5 * time.Minute),
		vm.AppendKernel("rdinit=/init", "no_timer_check")}
	if m, _ := vm.Machine(k); len(m) > 0 {
		all = append(all, vm.QEMUArgs(m...))
	}
	all = append(all, opts...)
	boot, err := vm.Run(ctx, all...)
	if err != nil {
		return nil, err
	}
	r := Parse(boot.Console)
	r.Boot = boot
	return r, nil
}

// Parse reads kcall's lines off the console.
func Parse(console string) *Result {
	r := &Result{}
	sc := bufio.NewScanner(strings.NewReader(console))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, "KCALL ")
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i+len("KCALL "):])
		switch {
		case len(f) >= 2 && f[0] == "load" && f[1] == "ok":
			r.Loaded = true
		case len(f) >= 2 && f[0] == "load":
			r.LoadErr = strings.TrimPrefix(strings.Join(f[1:], " "), "failed: ")
		case len(f) == 2 && f[0] == "btf" && f[1] != "none":
			id, _ := strconv.ParseUint(f[1], 10, 32)
			r.BTFID = uint32(id)
		case len(f) == 4 && f[0] == "call" && f[2] == "retval":
			v, _ := strconv.ParseUint(f[3], 10, 32)
			r.Called, r.Retval = true, uint32(v)
		case len(f) >= 3 && f[0] == "call" && f[2] == "refused:":
			r.Refused = strings.Join(f[3:], " ")
		}
	}
	return r
}

// buildKcall compiles kcall.c statically, once per source and compiler.
func buildKcall(ctx context.Context, dir string) (string, error) {
	ver, err := exec.CommandContext(ctx, "gcc", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("kfunccall: gcc: %w", err)
	}
	h := sha256.New()
	h.Write(kcallSource)
	h.Write(ver)
	bin := filepath.Join(dir, "kcall-"+hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	src := bin + ".c"
	if err := os.WriteFile(src, kcallSource, 0o644); err != nil {
		return "", err
	}
	defer os.Remove(src)
	tmp := bin + ".tmp"
	if out, err := exec.CommandContext(ctx, "gcc", "-static", "-O2", "-Wall", "-o", tmp, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("kfunccall: gcc -static kcall.c: %w\n%s", err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// initScript is the guest's /init.
func initScript(c Call) string {
	return fmt.Sprintf(`#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "KCALL begin"
/kcall /m.ko %d %s %d %d
echo "KCALL end"
/bin/busybox poweroff -f
`, c.Flags, c.Name, c.ID, c.Arg)
}

// initramfs is a gzipped newc cpio: /init, /bin/busybox, /kcall, /m.ko,
// /dev/console, and the mount points.
func initramfs(kcall string, mod []byte, c Call) ([]byte, error) {
	if strings.ContainsAny(c.Name, " \t\n;'\"$`\\") || c.Name == "" {
		return nil, fmt.Errorf("kfunccall: bad module name %q", c.Name)
	}
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		return nil, fmt.Errorf("kfunccall: %w (apt-get install busybox-static)", err)
	}
	kc, err := os.ReadFile(kcall)
	if err != nil {
		return nil, err
	}
	var w cpioWriter
	for _, d := range []string{"bin", "dev", "proc", "sys"} {
		w.add(d, 0o040755, 0, nil)
	}
	w.add("dev/console", 0o020600, 5<<8|1, nil)
	w.add("bin/busybox", 0o100755, 0, bb)
	w.add("kcall", 0o100755, 0, kc)
	w.add("m.ko", 0o100644, 0, mod)
	w.add("init", 0o100755, 0, []byte(initScript(c)))
	raw := w.close()
	var out bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if _, err := gz.Write(raw); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// cpioWriter writes the newc format (the kernel's initramfs format,
// Documentation/driver-api/early-userspace/buffer-format.rst).
type cpioWriter struct {
	buf bytes.Buffer
	ino int
}

func (w *cpioWriter) add(name string, mode, rdev uint32, data []byte) {
	w.ino++
	fmt.Fprintf(&w.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		w.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev>>8, rdev&0xff, len(name)+1, 0)
	w.buf.WriteString(name)
	w.buf.WriteByte(0)
	w.pad()
	w.buf.Write(data)
	w.pad()
}

func (w *cpioWriter) pad() {
	for w.buf.Len()%4 != 0 {
		w.buf.WriteByte(0)
	}
}

func (w *cpioWriter) close() []byte {
	w.ino = 0
	w.add("TRAILER!!!", 0, 0, nil)
	return w.buf.Bytes()
}

// ErrNotCalled: the guest never reported the call.
var ErrNotCalled = errors.New("kfunc not called")
