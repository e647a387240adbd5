// Command btfrecon inspects, distills and relocates BTF the way the kernel
// and libbpf do, and checks a real kernel against that model.
//
// Exit status: 0 ok, 1 a verdict against the input (a round trip that
// differs, a refused relocation, a disagreement), 2 bad usage or input that
// cannot be read.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// verb is one subcommand.
type verb struct {
	usage string // arguments, after the verb's name
	short string // one line for the overview
	run   func(env *env, args []string) error
}

// verbs is filled in init: the verbs' flag sets print their own usage from it.
var verbs map[string]verb

func init() {
	verbs = map[string]verb{
		"dump":     {"FILE [--base BASE]", "print the types of a BTF file, one a line, bpftool-style", runDump},
		"check":    {"FILE [--base BASE]", "decode and re-encode; exit 0 iff the round trip is byte-identical", runCheck},
		"distill":  {"--base BASE --split SPLIT --out-base D --out-split S2 [--force]", "make a distilled base and a new split, as libbpf's btf__distill_base()", runDistill},
		"relocate": {"(--distilled D --split S2 | --ko MODULE) --target BASE [--out R] [--map] [--force]", "relocate a split BTF onto another base, as the kernel does at module load", runRelocate},
		"inject":   {"MODULE --btf S2 [--btf-base D | --vmlinux V] -o OUT [--force]", "write .BTF (and .BTF.base) into a module, dropping its signature", runInject},
		"vm":       {"run [--arch amd64|arm64] [--build 6.12.107] [--run 6.12.117] [--modules LIST|all-loadable|all] [--hostile|--cycle|--case LABEL] [--expect hostile|cycle|case] [--json] [--keep]", "boot a Debian kernel or one you built, load distilled modules, diff /sys/kernel/btf against the model", runVM},
		"repro":    {"MODULE.ko --run 6.12.117 [--arch amd64|arm64] [--allow-bad-input] [--json] [--keep]", "load a module on a Debian kernel or one you built; show what the kernel did with its BTF and what the model predicts", runRepro},
		"kernels":  {"[list] | fetch RELEASE [--arch amd64|arm64] [--headers]", "list the pinned, resolved and cached Debian kernels; fetch one (any release: X.Y.Z, X.Y.Z+debN)", runKernels},
		"compat":   {"[--build 6.12.107] [--run 6.12.117] [--arch amd64] [--modules all|LIST] [--json]", "which modules built on one Debian point release keep their BTF on another, and why not", runCompat},
		"validate": {"--tree SRC [--patch P.patch ...] [--arch amd64|arm64] [--kasan] [--fragment F ...] [--other F] [--json]", "build two kernels of a tree whose vmlinux BTF differ, load modules built on one into the other; exit 0 iff every row agrees with the model", runValidate},
		"module":   {"build SRC_DIR --kernel R [--arch amd64|arm64] [--distiller real|model] -o OUT.ko [--jobs N] [--keep DIR] | chroot --kernel R [--arch] | call MODULE.ko --kernel R --kfunc NAME [--arg N]", "build an out-of-tree module in the kernel's own Debian userland; the kernel's BTF distillation vs the model's", runModule},
	}
}

// examples are one command line per verb, for --help.
var examples = map[string]string{
	"dump":     "btfrecon dump /sys/kernel/btf/nls_ascii --base /sys/kernel/btf/vmlinux",
	"check":    "btfrecon check /sys/kernel/btf/vmlinux",
	"distill":  "btfrecon distill --base vmlinux --split nls_ascii.ko.xz --out-base d.btf --out-split s.btf",
	"relocate": "btfrecon relocate --ko nls_ascii.ko --target /sys/kernel/btf/vmlinux --out r.btf",
	"inject":   "btfrecon inject nls_ascii.ko.xz --btf s.btf --btf-base d.btf -o nls_ascii.ko.xz.new.ko.xz",
	"vm":       "btfrecon vm run --build 6.12.107 --run 6.12.117 --modules nls_utf8,vfat",
	"repro":    "btfrecon repro ./mymod.ko --run 6.12.117",
	"compat":   "btfrecon compat --build 6.12.107 --run 6.12.117 --modules gpio-amdpt",
	"validate": "btfrecon validate --tree /usr/src/linux-source-6.1.tar.xz --patch kernel-patch/series/0001-*.patch",
	"module":   "btfrecon module build testmodule/kfuncset --kernel 7.2.13+deb14 --distiller model -o kfuncset.ko",
}

const overview = `btfrecon: model and check BTF reconciliation (distilled base BTF, Linux 6.11+).

usage: btfrecon VERB [arguments]

FILE, BASE, SPLIT may be raw BTF (a .BTF section, /sys/kernel/btf/*), an ELF
vmlinux, a module (.ko) or a compressed module (.ko.xz); the format is found
from the content. For a module, .BTF is read, and its .BTF.base is the base
when no --base is given.

verbs:
`

// env carries the process's outputs, so verbs stay testable.
type env struct {
	stdout, stderr io.Writer
}

// usageError is bad usage: exit 2 with the verb's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// verdictError is a verdict against the input: exit 1.
type verdictError struct{ err error }

func (e verdictError) Error() string { return e.err.Error() }
func (e verdictError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr}))
}

func run(args []string, e *env) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(e.stdout, version())
		return 0
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printOverview(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	v, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "btfrecon: unknown verb %q\n\n", args[0])
		printOverview(e.stderr)
		return 2
	}
	err := v.run(e, args[1:])
	var ue usageError
	var ve verdictError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "btfrecon %s: %s\nusage: btfrecon %s %s\n", args[0], ue.msg, args[0], v.usage)
		return 2
	case errors.As(err, &ve):
		fmt.Fprintf(e.stderr, "btfrecon %s: %v\n", args[0], ve.err)
		return 1
	}
	fmt.Fprintf(e.stderr, "btfrecon %s: %v\n", args[0], err)
	return 2
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, overview)
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n            btfrecon %s %s\n", n, verbs[n].short, n, verbs[n].usage)
	}
	fmt.Fprint(w, "\nRun 'btfrecon VERB --help' for a verb's flags and an example; 'btfrecon --version' for the build.\n")
}

// newFlags makes a verb's flag set; errors come back to run, not exit.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("btfrecon "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	v := verbs[name]
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: btfrecon %s %s\n\n%s.\n\n", name, v.usage, strings.ToUpper(v.short[:1])+v.short[1:])
		if ex := examples[name]; ex != "" {
			fmt.Fprintf(e.stderr, "example:\n  %s\n\n", ex)
		}
		fmt.Fprintf(e.stderr, "flags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before or after positional
// arguments (`dump FILE --base B` as well as `dump --base B FILE`).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// version names the build: the module version and the VCS revision Go
// stamped into the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "btfrecon (no build information)"
	}
	v := "btfrecon " + bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = ", modified"
		}
	}
	if rev != "" {
		v += " (commit " + rev + dirty + ")"
	}
	return v + ", " + bi.GoVersion
}
