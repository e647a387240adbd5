//go:build lean

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The lean build (go build -tags lean; make btfrecon) holds only the verbs
// that read BTF and write BTF: dump, check, distill, relocate, inject. The
// harness verbs (kernels, compat, vm, repro, module, validate) run in
// btfrecon-harness, the full build, installed beside it: their packages
// (QEMU, chroots, apt, cilium/ebpf) double the binary, and on a
// host whose page cache maps a binary whole, its size is every process's
// floor of resident memory.
var (
	runKernels  = harnessVerb("kernels")
	runCompat   = harnessVerb("compat")
	runVM       = harnessVerb("vm")
	runRepro    = harnessVerb("repro")
	runModule   = harnessVerb("module")
	runValidate = harnessVerb("validate")
)

// lean: see full.go.
const lean = true

// harnessName is the full build's file name, beside the lean one.
const harnessName = "btfrecon-harness"

// harnessVerb runs verb in btfrecon-harness ($BTFRECON_HARNESS, else the one
// beside this executable), replacing this process: exit status, signals
// and standard streams are the harness's own.
func harnessVerb(verb string) func(e *env, args []string) error {
	return func(e *env, args []string) error {
		path := os.Getenv("BTFRECON_HARNESS")
		if path == "" {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding %s: %w", harnessName, err)
			}
			path = filepath.Join(filepath.Dir(exe), harnessName)
		}
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s is a harness verb and this btfrecon is the lean build: it runs %s, not found at %s "+
					"(make btfrecon builds both; go build ./cmd/btfrecon builds one binary with every verb; "+
					"BTFRECON_HARNESS names another)", verb, harnessName, path)
			}
			return err
		}
		argv := append([]string{path, verb}, args...)
		if err := syscall.Exec(path, argv, os.Environ()); err != nil {
			return fmt.Errorf("running %s: %w", path, err)
		}
		return nil // not reached
	}
}
