//go:build !lean

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kfunccall"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/modbuild"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/vmimages"
)

const moduleHelp = `usage: btfrecon module build SRC_DIR --kernel RELEASE [--arch amd64|arm64] [--distiller real|model] -o OUT.ko [--jobs N] [--keep DIR]
       btfrecon module chroot --kernel RELEASE [--arch amd64|arm64]
       btfrecon module call MODULE.ko --kernel RELEASE --kfunc NAME [--arg N]

build: build the out-of-tree module in SRC_DIR for a Debian kernel the way
DKMS would on that system: in a chroot of the kernel's suite (trixie for
+deb13, sid for +deb14) holding the suite's gcc, make, pahole and the
kernel's own headers packages, with make -C /usr/src/linux-headers-<uname>
M=... modules. The chroot is set up once under $CACHE/chroot (a few
minutes) and reused.

The model redoes what the kernel's build did with the split BTF pahole
encoded, from the same bytes: the kernel's distillation profile (6.12:
pahole's distilled_base; 7.2: resolve_btfids --distill_base, then its sort
by name) and resolve_btfids' .BTF_ids. Both are compared section by section
(.BTF, .BTF.base, .BTF_ids). --distiller real (the default) writes the
module as the kernel's build wrote it; --distiller model writes it with
those three sections from the model. OUT.ko is written atomically and must
not be a file of SRC_DIR.

chroot: set up (or show) the chroot for a kernel: where it is, what it
holds, how long it took.

call: boot RELEASE (amd64, QEMU) with MODULE.ko loaded and call its kfunc
NAME, with --arg in r1, from a BPF_PROG_TYPE_SYSCALL program, by the BTF id
the model predicts the kfunc has once the kernel relocated the module's
BTF. The verifier only lets the call through if the kernel registered the
module's kfunc set under that id (btf_relocate_id on .BTF_ids); exit 1 when
it did not.

Exit status: 0 the build and the model agree, 1 they differ (OUT.ko is
written all the same), 2 bad usage, a build that fails, a kernel without
headers, or a kernel with no known profile under --distiller model.

examples:
  btfrecon module build testmodule/kfuncset --kernel 7.2.13+deb14 --distiller model -o kfuncset.ko
  btfrecon module chroot --kernel 6.12.107+deb13
  btfrecon module call kfuncset.ko --kernel 7.2.13+deb14 --kfunc btfrecon_kfuncset_add --arg 1000

flags:
`

func runModule(e *env, args []string) error {
	fs := newFlags(e, "module")
	release := fs.String("kernel", "", "the Debian kernel to build for, e.g. 6.12.107+deb13 or 7.2.13+deb14")
	arch := fs.String("arch", "amd64", "kernel architecture: amd64 or arm64 (cross-compiled in the chroot)")
	distiller := fs.String("distiller", "real", "whose .BTF/.BTF.base/.BTF_ids go into OUT.ko: real (the kernel's build) or model")
	out := fs.String("o", "", "the module to write")
	jobs := fs.Int("jobs", 0, "make -j (default: the number of CPUs)")
	kfunc := fs.String("kfunc", "", "call: the kfunc to call")
	arg := fs.Int("arg", 0, "call: the value in r1")
	keep := fs.String("keep", "", "also write into this directory: split.btf (pahole's split BTF before distillation), built.ko (the kernel's build), pre.ko (the module as pahole got it), model.ko")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, moduleHelp)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"want build SRC_DIR, chroot or call MODULE.ko"}
	}
	if *release == "" {
		return usageError{"--kernel RELEASE is required"}
	}
	if _, err := vmimages.ParseRelease(*release); err != nil {
		return usageError{err.Error()}
	}
	if *arch != "amd64" && *arch != "arm64" {
		return usageError{fmt.Sprintf("bad --arch %q (want amd64 or arm64)", *arch)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch pos[0] {
	case "chroot":
		if len(pos) != 1 || *out != "" || *distiller != "real" || *keep != "" || *jobs != 0 {
			return usageError{"chroot takes --kernel and --arch only"}
		}
		return moduleChroot(ctx, e, *release, *arch)
	case "call":
		if len(pos) != 2 || *kfunc == "" || *out != "" || *keep != "" {
			return usageError{"call takes MODULE.ko, --kernel and --kfunc NAME (and --arg N)"}
		}
		return moduleCall(ctx, e, pos[1], *release, *arch, *kfunc, int32(*arg))
	case "build":
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q (want build, chroot or call)", pos[0])}
	}
	if len(pos) != 2 {
		return usageError{"build takes one SRC_DIR"}
	}
	if *distiller != "real" && *distiller != "model" {
		return usageError{fmt.Sprintf("bad --distiller %q (want real or model)", *distiller)}
	}
	if *out == "" {
		return usageError{"-o OUT.ko is required"}
	}
	if err := checkModuleOutput(pos[1], *out); err != nil {
		return err
	}
	return moduleBuild(ctx, e, pos[1], *release, *arch, *distiller, *out, *jobs, *keep)
}

// checkModuleOutput refuses an output that is a directory or an existing
// file of the source tree (every file there is an input).
func checkModuleOutput(src, out string) error {
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return usageError{fmt.Sprintf("-o %s is a directory", out)}
	}
	s, o := resolved(src), resolved(out)
	if o == s || strings.HasPrefix(o, s+string(filepath.Separator)) {
		if _, err := os.Lstat(out); err == nil {
			return usageError{fmt.Sprintf("-o %s is a file of the source tree %s: refusing to overwrite an input", out, src)}
		}
	}
	return nil
}

func moduleChroot(ctx context.Context, e *env, release, arch string) error {
	k, c, err := modbuild.Prepare(ctx, release, arch, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "chroot for %s: %s\n", k, c.Dir)
	fmt.Fprintf(e.stdout, "  %s\n", setupLine(c))
	for _, l := range strings.Split(strings.TrimSpace(c.Spec.Describe()), "\n") {
		fmt.Fprintf(e.stdout, "  %s\n", l)
	}
	return nil
}

func setupLine(c *modbuild.Chroot) string {
	how := "cached"
	if c.Built {
		how = "built now"
	}
	if c.SetupTime == 0 {
		return how
	}
	return fmt.Sprintf("%s: set up in %.0f s, %d MB", how, c.SetupTime.Seconds(), c.Size>>20)
}

func moduleBuild(ctx context.Context, e *env, src, release, arch, distiller, out string, jobs int, keep string) error {
	start := time.Now()
	k, c, err := modbuild.Prepare(ctx, release, arch, e.stderr)
	if err != nil {
		return err
	}
	cfg, err := k.Config()
	if err != nil {
		return err
	}
	profile, perr := recon.ProfileFor(k.Release, cfg)
	if perr != nil && distiller == "model" {
		return perr
	}
	r, err := modbuild.Build(ctx, modbuild.Request{Src: src, Kernel: k, Chroot: c, Jobs: jobs, Log: io.Discard})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "module %s: built for %s in %s chroot %s (%s)\n", r.Module, r.Uname, c.Spec.Suite, c.Dir, setupLine(c))
	fmt.Fprintf(e.stdout, "  make %.1f s; pahole's split BTF %d bytes on the headers' vmlinux BTF (%d bytes)\n",
		r.Took.Seconds(), len(r.Split), len(r.Vmlinux))
	data := r.KO
	var verdict error
	kept := map[string][]byte{"split.btf": r.Split, "built.ko": r.KO, "pre.ko": r.PreKO}
	if perr != nil {
		fmt.Fprintf(e.stdout, "  no model: %v\n", perr)
	} else {
		t := time.Now()
		m, err := modbuild.RunModel(r, profile)
		if err != nil {
			return err
		}
		cmp, err := modbuild.Compare(r.KO, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "  profile %s; model %.2f s: distilled base %d types, new split %d types\n",
			profile, time.Since(t).Seconds(), m.DistilledTypes, m.SplitTypes)
		if len(m.Unresolved) > 0 {
			fmt.Fprintf(e.stdout, "  .BTF_ids: no type for %s (resolve_btfids leaves 0 and warns)\n", strings.Join(m.Unresolved, ", "))
		}
		fmt.Fprintf(e.stdout, "the kernel's build vs the model:\n")
		cmp.Write(e.stdout)
		if !cmp.Identical {
			verdict = verdictError{errors.New("the model and the kernel's build differ (see above)")}
		}
		if distiller == "model" {
			data = m.KO
		}
		kept["model.ko"] = m.KO
	}
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return err
		}
		for name, b := range kept {
			if err := kmod.WriteFileAtomic(filepath.Join(keep, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	if err := kmod.WriteFileAtomic(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s distiller), %d bytes; %.1f s in all\n", out, distiller, len(data), time.Since(start).Seconds())
	return verdict
}

// moduleCall boots the kernel with the module and calls its kfunc by the
// id the model predicts.
func moduleCall(ctx context.Context, e *env, ko, release, arch, kfunc string, arg int32) error {
	if arch != "amd64" {
		return usageError{"call boots amd64 guests only"}
	}
	m, err := kmod.Open(ko)
	if err != nil {
		return err
	}
	split, ok := m.BTF()
	if !ok {
		return fmt.Errorf("%s: %w", ko, kmod.ErrNoBTF)
	}
	base, _ := m.BTFBase()
	k, err := kernels.OpenOrFetch(ctx, release, arch, e.stderr)
	if err != nil {
		return err
	}
	vml, _, err := k.Vmlinux()
	if err != nil {
		return err
	}
	cfg, err := k.Config()
	if err != nil {
		return err
	}
	p := load.Predict(load.Kernel{Vmlinux: vml, Order: binary.LittleEndian, AllowMismatch: cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] == "y"}, split, base)
	if p.Outcome != load.KeepsBTF {
		return verdictError{fmt.Errorf("%s on %s: the model predicts %s: %s", ko, k, p.Outcome, p.Why())}
	}
	var id btf.TypeID
	for i := range p.Model.NumLocal() {
		if t := p.Model.Local(i); t.Kind() == btf.KindFunc && p.Model.Name(t) == kfunc {
			id = t.ID
			break
		}
	}
	if id == 0 {
		return fmt.Errorf("%s: no FUNC %s in its BTF", ko, kfunc)
	}
	name := m.ModinfoName
	if name == "" {
		name = m.Name
	}
	fmt.Fprintf(e.stdout, "%s on %s: the model puts %s at [%d] of the relocated BTF\n", name, k, kfunc, id)
	r, err := kfunccall.Run(ctx, k, kfunccall.Call{Module: ko, Name: name, Flags: gotestForceFlags, ID: uint32(id), Arg: arg})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "  boot: %s in %.1f s (%s)\n", r.Boot.Verdict, r.Boot.Seconds, r.Boot.Accel)
	switch {
	case !r.Loaded:
		return verdictError{fmt.Errorf("the module did not load: %s", orDash(r.LoadErr))}
	case r.BTFID == 0:
		return verdictError{errors.New("the module loaded without BTF")}
	case !r.Called:
		return verdictError{fmt.Errorf("the call of [%d] was refused: %s", id, orDash(r.Refused))}
	}
	fmt.Fprintf(e.stdout, "  loaded (BTF object %d); %s(%d) called by id %d: retval %d\n", r.BTFID, kfunc, arg, id, r.Retval)
	return nil
}

// gotestForceFlags: finit_module ignoring modversions and vermagic, as
// repro loads a module built for another point release.
const gotestForceFlags = 3

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
