//go:build !lean

package main

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kbuild"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/scenario"
)

// The old-headers module (--old-headers DIR): the test module built
// against DIR, the tree WITHOUT the patches under test, configured as the
// booted kernel: what a module built before the series looks like to the
// patched kernel. The series appends members to struct module, which the
// loader writes into the module's own copy (.gnu.linkonce.this_module):
// where the old copy has room for them (the tail padding) the module must
// load, with its BTF as the model says, and unload; where it has not, the
// loader must refuse it with -ENOEXEC rather than write past it.

// ErrOldHeaders is an --old-headers tree that cannot give the module.
var ErrOldHeaders = errors.New("old-headers module")

// structModuleTail names the members a patched struct module ends with
// (the 6.1 series' btf_base_data{,_size}).
const structModuleTail = "btf_base_data_size"

// oldHeaders prepares DIR configured as run (olddefconfig on run's
// .config, modules_prepare) in a cached object directory, and builds the
// module source src there into out. run's vmlinux is put beside the
// headers so that kbuild gives the module BTF split on it, as a distro's
// headers package with vmlinux would.
func oldHeaders(ctx context.Context, bl *kbuild.Builder, dir string, run *kbuild.Build, src, out string, jobs int, log io.Writer) (string, error) {
	tr, _, err := bl.Prepare(kbuild.Spec{Tree: dir, Arch: run.Arch})
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrOldHeaders, dir, err)
	}
	cfg, err := os.ReadFile(filepath.Join(run.Dir, ".config"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "oldhdr 1\x00%s\x00%s\x00%s\x00", tr.Hash, run.Arch, strings.Join(run.Toolchain, "\x00"))
	h.Write(cfg)
	obj := filepath.Join(bl.Cache, "oldhdr", fmt.Sprintf("%x", h.Sum(nil)[:8]))
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return "", err
	}
	unlock, err := cache.Lock(obj + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(obj, ".prepared")); err != nil {
		if err := prepareOldHeaders(ctx, tr.Dir, obj, run, cfg, jobs, log); err != nil {
			return "", err
		}
	}
	vml, err := os.ReadFile(filepath.Join(run.Dir, "vmlinux"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(obj, "vmlinux"), vml, 0o644); err != nil {
		return "", err
	}
	b := &kbuild.Build{Dir: obj, Arch: run.Arch, MakeArch: run.MakeArch, Cross: run.Cross, Pahole: run.Pahole, Version: tr.Version}
	// No Module.symvers there: the symbols resolve at load.
	kos, err := b.BuildModule(ctx, src, out, []string{"KBUILD_MODPOST_WARN=1"}, log)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOldHeaders, err)
	}
	return kos[0], nil
}

// prepareOldHeaders configures and prepares the object directory, out of
// sight first: a failed make leaves nothing that looks prepared.
func prepareOldHeaders(ctx context.Context, tree, obj string, run *kbuild.Build, cfg []byte, jobs int, log io.Writer) error {
	tmp := obj + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".config"), cfg, 0o644); err != nil {
		return err
	}
	if jobs <= 0 {
		jobs = 2
	}
	for _, target := range [][]string{{"olddefconfig"}, {fmt.Sprintf("-j%d", jobs), "modules_prepare"}} {
		args := append([]string{"-C", tree, "O=" + tmp}, run.MakeArgs()...)
		args = append(args, target...)
		fmt.Fprintf(log, "+ make %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "make", args...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("%w: make %s in %s (O=%s): %w", ErrOldHeaders, strings.Join(target, " "), tree, tmp, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".prepared"), nil, 0o644); err != nil {
		return err
	}
	os.RemoveAll(obj)
	return os.Rename(tmp, obj)
}

// oldHeadersFit says whether the module's struct module has room for the
// members the booted kernel's ends with: have is its
// .gnu.linkonce.this_module's size, end where the kernel's last member
// ends (from the booted vmlinux's BTF).
func oldHeadersFit(ko, vmlinux string) (fits bool, have, end uint64, err error) {
	f, err := elf.Open(ko)
	if err != nil {
		return false, 0, 0, err
	}
	defer f.Close()
	sec := f.Section(".gnu.linkonce.this_module")
	if sec == nil {
		return false, 0, 0, fmt.Errorf("%w: %s: no .gnu.linkonce.this_module", ErrOldHeaders, ko)
	}
	spec, _, err := btffile.LoadSpec(vmlinux, "")
	if err != nil {
		return false, 0, 0, err
	}
	end, err = memberEnd(spec, "module", structModuleTail)
	if err != nil {
		return false, 0, 0, fmt.Errorf("%w: %s: %w", ErrOldHeaders, vmlinux, err)
	}
	return sec.Size >= end, sec.Size, end, nil
}

// memberEnd is where member ends in the first struct called name, in
// bytes (its type's size from the BTF).
func memberEnd(s *btf.Spec, name, member string) (uint64, error) {
	for id := btf.TypeID(1); id < s.NumIDs(); id++ {
		t, err := s.Type(id)
		if err != nil || t.Kind() != btf.KindStruct || s.Name(t) != name {
			continue
		}
		for i := range t.Vlen() {
			m := t.W[3+3*i : 6+3*i] // name_off, type, offset (bits)
			if n, _ := s.String(m[0]); n != member {
				continue
			}
			off := m[2]
			if t.KindFlag() {
				off &= 0xffffff
			}
			size, err := typeSize(s, btf.TypeID(m[1]))
			if err != nil {
				return 0, fmt.Errorf("struct %s member %s: %w", name, member, err)
			}
			return uint64(off/8) + uint64(size), nil
		}
		return 0, fmt.Errorf("struct %s has no member %s: is the series applied?", name, member)
	}
	return 0, fmt.Errorf("no struct %s in the BTF", name)
}

// typeSize is the size of a member's type: through typedefs and
// qualifiers to one with a size (64-bit targets: a pointer is 8 bytes).
func typeSize(s *btf.Spec, id btf.TypeID) (uint32, error) {
	for range 32 {
		t, err := s.Type(id)
		if err != nil {
			return 0, err
		}
		switch t.Kind() {
		case btf.KindTypedef, btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypeTag:
			id = btf.TypeID(t.SizeType())
		case btf.KindPtr:
			return 8, nil
		case btf.KindInt, btf.KindEnum, btf.KindEnum64, btf.KindStruct, btf.KindUnion:
			return t.SizeType(), nil
		default:
			return 0, fmt.Errorf("type [%d] %s has no size", id, t.Kind())
		}
	}
	return 0, fmt.Errorf("type [%d]: a chain of more than 32 typedefs", id)
}

// enoexec is the loader's errno for a struct module without room.
var enoexec = -int(syscall.ENOEXEC)

// oldHeadersModule builds the test module against v.oldHeaders configured
// as run and says what run's kernel must do with it.
func (v *validator) oldHeadersModule(ctx context.Context, bl *kbuild.Builder, run *kbuild.Build, src, out string) (scenario.ExtraModule, error) {
	logPath := out + ".log"
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return scenario.ExtraModule{}, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return scenario.ExtraModule{}, err
	}
	defer log.Close()
	ko, err := oldHeaders(ctx, bl, v.oldHeaders, run, src, out, v.jobs, log)
	if err != nil {
		return scenario.ExtraModule{}, fmt.Errorf("%w (log %s)", err, logPath)
	}
	m, err := kmod.Open(ko)
	if err != nil {
		return scenario.ExtraModule{}, err
	}
	if _, ok := m.BTF(); !ok {
		return scenario.ExtraModule{}, fmt.Errorf("%w: %s has no .BTF: kbuild did not generate it against %s/vmlinux (log %s)", ErrOldHeaders, ko, run.Dir, logPath)
	}
	if _, ok := m.BTFBase(); ok {
		return scenario.ExtraModule{}, fmt.Errorf("%w: %s has a .BTF.base: %s is not a tree without the series", ErrOldHeaders, ko, v.oldHeaders)
	}
	fits, have, end, err := oldHeadersFit(ko, filepath.Join(run.Dir, "vmlinux"))
	if err != nil {
		return scenario.ExtraModule{}, err
	}
	x := scenario.ExtraModule{Role: scenario.RoleOldHeaders, Path: ko, Unload: true}
	mi, _ := m.Section(".modinfo")
	rel, _ := run.Release()
	if f := strings.Fields(kmod.ParseModInfo(mi).Vermagic); len(f) == 0 || f[0] != rel {
		x.Flags = gotest.ForceFlags // another release string: the layout is what is tested
	}
	if fits {
		x.Why = fmt.Sprintf("built against %s: its struct module is %d bytes, the patched one's members end at %d: they fit, so it must load and unload",
			v.oldHeaders, have, end)
	} else {
		x.RefuseErrno = enoexec
		x.RefuseMessage = m.ModinfoName + ": .gnu.linkonce.this_module is too small for this kernel's struct module"
		if m.ModinfoName == "" {
			x.RefuseMessage = ".gnu.linkonce.this_module is too small for this kernel's struct module"
		}
		x.Why = fmt.Sprintf("built against %s: its struct module is %d bytes, the patched one's members end at %d: the loader must refuse it (-ENOEXEC) rather than write past it",
			v.oldHeaders, have, end)
	}
	v.logf("validate: old-headers module %s: %s", ko, x.Why)
	v.rep.Notes = append(v.rep.Notes, "old-headers module: "+x.Why)
	return x, nil
}
