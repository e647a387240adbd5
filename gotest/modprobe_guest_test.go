//go:build vmguest

package gotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain lets the guest test binary be /sbin/modprobe too: the kernel
// runs "modprobe -q -- NAME" for request_module(NAME).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "modprobe" {
		os.Exit(modprobe(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// installModprobe makes /sbin/modprobe this binary.
func installModprobe() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll("/sbin", 0o755); err != nil {
		return err
	}
	os.Remove("/sbin/modprobe")
	if err := os.Symlink(exe, "/sbin/modprobe"); err != nil {
		return err
	}
	return os.WriteFile("/proc/sys/kernel/modprobe", []byte("/sbin/modprobe\n"), 0o644)
}

// modprobe loads what the share's table says NAME is, each module after
// its dependencies (one already there is fine), and appends a "modprobe"
// record a module. Exit 0 when every target loaded.
func modprobe(args []string) int {
	name := ""
	for _, a := range args {
		if a != "" && a[0] != '-' {
			name = a
		}
	}
	dir := shareDir()
	b, err := os.ReadFile(filepath.Join(dir, ModprobeFile))
	if err != nil || name == "" {
		return 1
	}
	var table ModprobeTable
	if err := json.Unmarshal(b, &table); err != nil {
		return 1
	}
	targets := table.Lookup(name)
	if len(targets) == 0 {
		return 1
	}
	f, err := os.OpenFile(filepath.Join(dir, ResultsFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 1
	}
	defer f.Close()
	status := 0
	for _, t := range targets {
		rec := Record{Event: "modprobe", Module: name, Step: t.Module}
		for i, file := range t.Files {
			err := load(filepath.Join(dir, file), t.Flags[i])
			if err != nil && !errors.Is(err, unix.EEXIST) {
				rec.LoadErr = fmt.Sprintf("%s: %v", file, err)
				var en unix.Errno
				if errors.As(err, &en) {
					rec.Errno = int(en)
				}
				status = 1
				break
			}
		}
		rec.Loaded = rec.LoadErr == ""
		rec.Uptime = uptime()
		if b, err := json.Marshal(rec); err == nil {
			f.Write(append(b, '\n'))
		}
	}
	return status
}
