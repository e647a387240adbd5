//go:build !lean

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/compat"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/report"
)

func runCompat(e *env, args []string) error {
	fs := newFlags(e, "compat")
	build := fs.String("build", "6.12.107", "the point release modules are built on (a catalog entry)")
	run := fs.String("run", "6.12.117", "the point release they are loaded on")
	arch := fs.String("arch", "amd64", "amd64 or arm64")
	modules := fs.String("modules", "all", "all, or a comma-separated list of module names")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"no positional arguments"}
	}
	ctx := context.Background()
	kb, err := kernels.OpenOrFetch(ctx, *build, *arch, e.stderr)
	if err != nil {
		return err
	}
	kr, err := kernels.OpenOrFetch(ctx, *run, *arch, e.stderr)
	if err != nil {
		return err
	}
	bb, _, err := kb.Vmlinux()
	if err != nil {
		return err
	}
	br, _, err := kr.Vmlinux()
	if err != nil {
		return err
	}
	cfg, err := kr.Config()
	if err != nil {
		return err
	}
	target := load.Kernel{Vmlinux: br, Order: binary.LittleEndian, AllowMismatch: cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] == "y"}
	mods, err := corpus.Load(kb, e.stderr)
	if err != nil {
		return err
	}
	keep := func(string) bool { return true }
	if *modules != "all" {
		names := make([]string, len(mods))
		in := map[string]bool{}
		for i, m := range mods {
			names[i] = kmod.ModName(m.Name)
			in[names[i]] = true
		}
		wanted, err := kmod.CheckNames(strings.Split(*modules, ","), func(n string) bool { return in[n] }, names)
		if err != nil {
			return usageError{fmt.Sprintf("--modules: %v in %s", err, kb)}
		}
		want := map[string]bool{}
		for _, n := range wanted {
			want[n] = true
		}
		keep = func(n string) bool { return want[kmod.ModName(n)] }
	}
	rep, err := compat.Check(report.NewHeader("compat", *arch, *build, *run, false), bb, target, mods, keep)
	if err != nil {
		return err
	}
	if len(rep.Modules) == 0 {
		return usageError{fmt.Sprintf("no module of %s matches --modules %s", kb, *modules)}
	}
	if *asJSON {
		return rep.WriteJSON(e.stdout)
	}
	rep.WriteText(e.stdout)
	return nil
}
