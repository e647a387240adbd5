package modbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// Errors of Build; each wrapping error says which module and kernel.
var (
	// ErrNotModuleSource: the directory has neither a Kbuild nor a Makefile.
	ErrNotModuleSource = errors.New("not an out-of-tree module source")
	// ErrBuildFailed: make failed; the error carries its last lines.
	ErrBuildFailed = errors.New("module build failed")
	// ErrNoModuleBTF: the build wrote a module but no BTF for it.
	ErrNoModuleBTF = errors.New("the kernel's build wrote no BTF for the module")
)

// paholeWrapper is what kbuild runs as $(PAHOLE) (see the package doc). It
// keeps, beside the module: <m>.ko.btfrecon-pre, the module as pahole gets
// it; <m>.ko.btfrecon-split, the split BTF pahole encodes. pahole itself
// runs with kbuild's arguments and environment, unchanged.
const paholeWrapper = `#!/bin/bash
# btfrecon (harness/modbuild): kbuild's PAHOLE. Keeps the module as pahole
# gets it and the split BTF pahole encodes; runs pahole unchanged.
elf=${!#}
case " $* " in
*" -J "*) [ -f "$elf" ] || exec pahole "$@" ;;
*) exec pahole "$@" ;; # --version and the like
esac
cp -- "$elf" "$elf.btfrecon-pre" || exit 1
pahole "$@" || exit $?
detached=
for a in "$@"; do
	case $a in --btf_encode_detached=*) detached=${a#--btf_encode_detached=} ;; esac
done
if [ -n "$detached" ]; then
	# 7.2 (gen-btf.sh): this file is what resolve_btfids distills.
	exec cp -- "$detached" "$elf.btfrecon-split"
fi
# 6.12: pahole distilled inside; the same encoding, written raw (pahole
# does not distill raw output), from the copy kept above.
exec pahole "${@:1:$#-1}" --btf_encode_detached="$elf.btfrecon-split" "$elf.btfrecon-pre"
`

const wrapperPath = "/build/.btfrecon-pahole"

// Request is one module build.
type Request struct {
	Src    string          // the module's source directory (Kbuild or Makefile at its top)
	Kernel *kernels.Kernel // its headers fetched
	Chroot *Chroot         // Ensure(SpecFor(Kernel))
	Jobs   int             // make -j; 0: the number of CPUs
	Log    io.Writer       // progress lines; nil for none
}

// Result is what the kernel's build wrote, and what the capture kept.
type Result struct {
	Module string // the module's name: its .ko without the suffix
	Uname  string // the kernel's uname -r
	// KO is the module as the kernel's build wrote it.
	KO []byte
	// PreKO is the module as pahole got it: no BTF sections yet, .BTF_ids
	// unresolved.
	PreKO []byte
	// Split is the split BTF pahole encoded on the headers' vmlinux, before
	// any distillation.
	Split []byte
	// Vmlinux is the .BTF of the headers' vmlinux, the build's --btf_base.
	Vmlinux []byte
	Output  []byte // make's output
	Took    time.Duration
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9_.+-]`)

// Build builds the module in req.Src for req.Kernel inside req.Chroot, as
// DKMS would: the source copied to /build/<dir name>, then
//
//	make -C /usr/src/linux-headers-<uname> M=/build/<name> clean
//	make -C /usr/src/linux-headers-<uname> M=/build/<name> modules
//
// with kbuild's PAHOLE pointed at the capture wrapper. The source tree is
// only read. One module per tree.
func Build(ctx context.Context, req Request) (*Result, error) {
	log := req.Log
	if log == nil {
		log = io.Discard
	}
	k := req.Kernel
	src, err := filepath.Abs(req.Src)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("module source: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("module source %s: not a directory: %w", src, ErrNotModuleSource)
	}
	if !exists(filepath.Join(src, "Kbuild")) && !exists(filepath.Join(src, "Makefile")) {
		return nil, fmt.Errorf("%s: %w: no Kbuild or Makefile at its top", src, ErrNotModuleSource)
	}
	uname, err := k.Uname()
	if err != nil {
		return nil, err
	}
	root := req.Chroot.Dir
	hdrs := "/usr/src/linux-headers-" + uname
	if !exists(filepath.Join(root, hdrs, "Makefile")) {
		return nil, fmt.Errorf("%s: %w: %s is not installed in %s", k, ErrNoHeaders, hdrs, root)
	}
	name := safeName.ReplaceAllString(filepath.Base(src), "_")
	buildDir := filepath.Join(root, "build")
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := cache.Lock(filepath.Join(buildDir, "."+name+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	work := filepath.Join(buildDir, name)
	if err := removeTree(work); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", "--", src+"/.", work).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy %s into the chroot: %w\n%s", src, err, out)
	}
	if err := writeIfChanged(filepath.Join(root, wrapperPath), []byte(paholeWrapper), 0o755); err != nil {
		return nil, err
	}
	jobs := req.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	m := "/build/" + name
	script := fmt.Sprintf("make -j%d -C %s M=%s clean >/dev/null 2>&1; exec make -j%d -C %s M=%s PAHOLE=%s modules",
		jobs, hdrs, m, jobs, hdrs, m, wrapperPath)
	fmt.Fprintf(log, "build: %s for %s in %s: make -C %s M=%s modules\n", src, uname, root, hdrs, m)
	start := time.Now()
	out, err := runIsolated(ctx, root, "/bin/sh", "-c", script)
	took := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("build %s for %s: %w", src, uname, ctx.Err())
		}
		return nil, fmt.Errorf("%s for %s: %w (%v); make's last lines:\n%s", src, uname, ErrBuildFailed, err, lastLines(out, 25))
	}
	order, err := os.ReadFile(filepath.Join(work, "modules.order"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: no modules.order after the build", src, ErrBuildFailed)
	}
	var mods []string
	for _, l := range strings.Fields(string(order)) {
		mods = append(mods, strings.TrimSuffix(filepath.Base(l), ".o"))
	}
	if len(mods) != 1 {
		return nil, fmt.Errorf("%s builds %d modules (%s): one per source tree", src, len(mods), strings.Join(mods, ", "))
	}
	ko := filepath.Join(work, mods[0]+".ko")
	r := &Result{Module: mods[0], Uname: uname, Output: out, Took: took}
	if r.KO, err = os.ReadFile(ko); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", src, ErrBuildFailed, err)
	}
	if r.PreKO, err = os.ReadFile(ko + ".btfrecon-pre"); err != nil {
		return nil, fmt.Errorf("%s for %s: %w (pahole never ran: %s)", src, uname, ErrNoModuleBTF, skipped(out))
	}
	if r.Split, err = os.ReadFile(ko + ".btfrecon-split"); err != nil {
		return nil, fmt.Errorf("%s for %s: %w: pahole's split BTF was not kept: %w", src, uname, ErrNoModuleBTF, err)
	}
	vmlinux := filepath.Join(root, hdrs, "vmlinux")
	data, err := os.ReadFile(vmlinux)
	if err != nil {
		return nil, fmt.Errorf("%s: the headers' vmlinux: %w", k, err)
	}
	if r.Vmlinux, err = kernels.ELFSectionBTF(data, vmlinux); err != nil {
		return nil, err
	}
	return r, nil
}

// skipped is kbuild's word on skipping BTF, if it said one.
func skipped(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Skipping BTF") {
			return strings.TrimSpace(l)
		}
	}
	return "CONFIG_DEBUG_INFO_BTF_MODULES off, or no vmlinux in the headers"
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeIfChanged writes data to path unless it already holds it.
func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == string(data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
