package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// oneShotLimit is the heap at which a one-shot verb's collector starts.
const oneShotLimit = 256 << 20

// oneShot sets the collector up for a verb that reads its inputs, computes
// and exits (check, distill, relocate): its heap is a few times its inputs
// and nearly all of it stays live to the end, so a collection frees little
// and costs time, and its own bookkeeping costs memory (relocate amdgpu:
// two collections, 13 ms of 30 ms CPU, 0.5 MiB more peak RSS). So none runs
// until the heap nears oneShotLimit. GOGC or GOMEMLIMIT in the
// environment win. It returns what restores the settings.
func oneShot() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(oneShotLimit)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(gc)
	}
}

func runDistill(e *env, args []string) error {
	defer oneShot()()
	fs := newFlags(e, "distill")
	basePath := fs.String("base", "", "the full base (vmlinux BTF) the split was built on (required)")
	splitPath := fs.String("split", "", "the split BTF, or a .ko/.ko.xz holding it (required)")
	outBase := fs.String("out-base", "", "where to write the distilled base, raw BTF (required)")
	outSplit := fs.String("out-split", "", "where to write the new split, raw BTF (required)")
	force := fs.Bool("force", false, "allow an output to name an input or the other output")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *basePath == "" || *splitPath == "" || *outBase == "" || *outSplit == "" {
		return usageError{"--base, --split, --out-base and --out-split are required"}
	}
	if err := checkOutputs(*force, []pathArg{{"--base", *basePath}, {"--split", *splitPath}},
		[]pathArg{{"--out-base", *outBase}, {"--out-split", *outSplit}}); err != nil {
		return err
	}
	base, _, err := loadStandalone(pathArg{"--base", *basePath}, "the vmlinux BTF the split was built on")
	if err != nil {
		return err
	}
	sf, err := btffile.Load(*splitPath)
	if err != nil {
		return fmt.Errorf("--split: %w", err)
	}
	sf = dropImage(sf)
	split, err := sf.Spec(base)
	if err != nil {
		return fmt.Errorf("--split: %w (built on another vmlinux? --base must be the one the module was built against)", err)
	}
	d, s2, err := recon.Distill(base, split)
	if err != nil {
		return verdict(err)
	}
	if err := writeBoth(*outBase, d.Encoded(), *outSplit, s2.Encoded()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "distilled base: %d types, %d string bytes -> %s\nnew split: %d types (ids %d..%d), %d string bytes -> %s\n",
		d.NumLocal(), len(d.Strings()), *outBase, s2.NumLocal(), s2.FirstID(), s2.NumIDs()-1, len(s2.Strings()), *outSplit)
	return nil
}

// dropImageMin is the decompressed image worth a collection to let go: one
// costs about 4 ms and 0.7 MiB of its own.
const dropImageMin = 8 << 20

// dropImage lets a large compressed module's image go (collected now, its
// memory reused for the work to come) when only its .BTF and .BTF.base are
// needed from here on: amdgpu's is 29 MB for 2.6 MB of .BTF. Other files
// are mapped, not on the heap, and returned as they are.
func dropImage(f *btffile.File) *btffile.File {
	if f.Module == nil || !f.Module.Compressed || f.Module.Size() < dropImageMin {
		return f
	}
	f = f.WithoutImage()
	runtime.GC()
	return f
}

// writeBoth writes two outputs so that either both are there or neither
// is changed... as far as two renames allow: the second is written to its
// temp file before the first is renamed.
func writeBoth(p1 string, b1 []byte, p2 string, b2 []byte) error {
	if err := kmod.WriteFileAtomic(p2+".btfrecon-new", b2, 0o644); err != nil {
		return err
	}
	if err := kmod.WriteFileAtomic(p1, b1, 0o644); err != nil {
		os.Remove(p2 + ".btfrecon-new")
		return err
	}
	return os.Rename(p2+".btfrecon-new", p2)
}

func verdict(err error) error {
	var re *recon.Error
	if errors.As(err, &re) {
		return verdictError{errors.New(re.Explain())}
	}
	return err
}

func runRelocate(e *env, args []string) error {
	defer oneShot()()
	fs := newFlags(e, "relocate")
	distPath := fs.String("distilled", "", "the distilled base (raw BTF)")
	splitPath := fs.String("split", "", "the split BTF on the distilled base (raw BTF)")
	koPath := fs.String("ko", "", "a module holding .BTF and .BTF.base (instead of --distilled and --split)")
	targetPath := fs.String("target", "", "the base to relocate onto: vmlinux BTF of the running kernel (required)")
	out := fs.String("out", "", "where to write the relocated split, raw BTF (default: none, just the verdict)")
	showMap := fs.Bool("map", false, "print which target type each distilled type was matched to")
	force := fs.Bool("force", false, "allow --out to name an input")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *targetPath == "" || (*koPath == "") == (*distPath == "" || *splitPath == "") {
		return usageError{"give --target and either --ko or both --distilled and --split"}
	}
	if err := checkOutputs(*force, []pathArg{{"--distilled", *distPath}, {"--split", *splitPath}, {"--ko", *koPath}, {"--target", *targetPath}},
		[]pathArg{{"--out", *out}}); err != nil {
		return err
	}
	var dist, split *btf.Spec
	if *koPath != "" {
		f, err := btffile.Load(*koPath)
		if err != nil {
			return fmt.Errorf("--ko: %w", err)
		}
		if !isModule(f) {
			return usageError{fmt.Sprintf("--ko %s is %s, not a module (give --distilled and --split for raw BTF)", *koPath, f.Format)}
		}
		if f.Base == nil {
			return verdictError{fmt.Errorf("%s: no .BTF.base section: the kernel parses its .BTF directly on vmlinux, nothing to relocate", *koPath)}
		}
		if split, err = dropImage(f).Spec(nil); err != nil {
			return err
		}
		dist = split.Base()
	} else {
		var err error
		if dist, _, err = loadStandalone(pathArg{"--distilled", *distPath}, "a distilled base (.BTF.base)"); err != nil {
			return err
		}
		sf, err := btffile.Load(*splitPath)
		if err != nil {
			return fmt.Errorf("--split: %w", err)
		}
		if split, err = btf.ParseSplit(sf.BTF, dist); err != nil {
			return fmt.Errorf("--split %s on --distilled %s: %w", *splitPath, *distPath, err)
		}
	}
	target, _, err := loadStandalone(pathArg{"--target", *targetPath}, "the running kernel's vmlinux BTF")
	if err != nil {
		return err
	}
	rel, idMap, err := recon.Relocate(dist, split, target)
	if err != nil {
		return verdict(err)
	}
	if *showMap {
		for id := btf.TypeID(1); id < dist.NumIDs(); id++ {
			dt, _ := dist.Type(id)
			tt, _ := target.Type(idMap[id])
			fmt.Fprintf(e.stdout, "%s -> %s\n", recon.RefOf(dist, dt), recon.RefOf(target, tt))
		}
	}
	if *out != "" {
		// Streamed: rel shares its strings with the input, and its
		// encoding is never built whole.
		err := kmod.WriteAtomic(*out, 0o644, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 64<<10)
			if _, err := rel.WriteTo(bw); err != nil {
				return err
			}
			return bw.Flush()
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "relocated: %d distilled types matched, split ids %d.. -> %d.., %d bytes",
		dist.NumLocal(), split.FirstID(), rel.FirstID(), rel.MarshalLen())
	if *out != "" {
		fmt.Fprintf(e.stdout, " -> %s", *out)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func runInject(e *env, args []string) error {
	fs := newFlags(e, "inject")
	btfPath := fs.String("btf", "", "raw BTF to write as .BTF (required)")
	basePath := fs.String("btf-base", "", "raw BTF to write as .BTF.base (replaced or added)")
	vmlinux := fs.String("vmlinux", "", "without --btf-base: the vmlinux BTF the new .BTF is split on, to check it against")
	out := fs.String("o", "", "output module, unsigned; xz-compressed when the name ends in .xz (required)")
	force := fs.Bool("force", false, "allow -o to name an input, and skip the check of a .BTF without --btf-base")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *btfPath == "" || *out == "" {
		return usageError{"want one MODULE, --btf and -o"}
	}
	if err := checkOutputs(*force, []pathArg{{"MODULE", pos[0]}, {"--btf", *btfPath}, {"--btf-base", *basePath}, {"--vmlinux", *vmlinux}},
		[]pathArg{{"-o", *out}}); err != nil {
		return err
	}
	compress, err := compressionFor(*out)
	if err != nil {
		return err
	}
	f, err := btffile.Load(pos[0])
	if err != nil {
		return err
	}
	if !isModule(f) {
		return usageError{fmt.Sprintf("%s is %s, not a module", pos[0], f.Format)}
	}
	m := f.Module
	if _, ok := m.Section(".modinfo"); !ok {
		return usageError{fmt.Sprintf("%s has no .modinfo section: an object file, not a module (.ko)", pos[0])}
	}
	newBTF, err := os.ReadFile(*btfPath)
	if err != nil {
		return err
	}
	var newBase []byte
	switch {
	case *basePath != "":
		if newBase, err = os.ReadFile(*basePath); err != nil {
			return err
		}
		// Refuse a pair that does not even decode: the kernel would drop it.
		d, err := btf.Parse(newBase)
		if err != nil {
			return fmt.Errorf("--btf-base %s: %w", *basePath, err)
		}
		if _, err := btf.ParseSplit(newBTF, d); err != nil {
			return fmt.Errorf("--btf %s on --btf-base %s: %w", *btfPath, *basePath, err)
		}
	case f.Base != nil:
		// The module keeps its .BTF.base: the new .BTF must be split on it.
		d, err := btf.Parse(f.Base)
		if err != nil {
			return fmt.Errorf("%s: .BTF.base: %w", pos[0], err)
		}
		if _, err := btf.ParseSplit(newBTF, d); err != nil {
			return fmt.Errorf("--btf %s on %s's own .BTF.base: %w (a new distilled base? give --btf-base)", *btfPath, pos[0], err)
		}
	case *vmlinux != "":
		v, _, err := loadStandalone(pathArg{"--vmlinux", *vmlinux}, "the vmlinux BTF the module is built on")
		if err != nil {
			return err
		}
		if _, err := btf.ParseSplit(newBTF, v); err != nil {
			return fmt.Errorf("--btf %s on --vmlinux %s: %w (split on a distilled base? give --btf-base)", *btfPath, *vmlinux, err)
		}
	case !*force:
		return usageError{"without --btf-base the kernel parses the new .BTF directly on vmlinux: give --vmlinux to check it against " +
			"(or --btf-base if it is split on a distilled base; --force to write it unchecked)"}
	}
	img, err := m.WithSections(newBTF, newBase)
	if err != nil {
		return err
	}
	if img, err = compress(img); err != nil {
		return err
	}
	if err := kmod.WriteFileAtomic(*out, img, 0o644); err != nil {
		return err
	}
	note := ""
	if m.Signed() {
		note = " (appended signature dropped: the module loads unsigned, tainting the kernel)"
	}
	fmt.Fprintf(e.stdout, "%s: wrote .BTF (%d bytes)", *out, len(newBTF))
	if newBase != nil {
		fmt.Fprintf(e.stdout, " and .BTF.base (%d bytes)", len(newBase))
	}
	fmt.Fprintf(e.stdout, "%s\n", note)
	return nil
}
