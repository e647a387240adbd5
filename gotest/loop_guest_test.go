//go:build vmguest

package gotest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// runLoop runs the plan's loop (loop.go) after its steps. A load that
// does not return within timeout stops it: the host sees the round cut
// short.
func runLoop(dir string, p *Plan, w *recorder, klog *kmsg, timeout time.Duration) {
	l := p.Loop
	byName := map[string]Step{}
	for _, s := range p.Steps {
		byName[s.Name] = s
	}
	scan := l.Kmemleak && kmemleakReady()
	var scanErr string
	if scan {
		// What boot and the steps left suspected is not the loop's doing.
		if err := kmemleakCmd("scan"); err != nil {
			scanErr = "scan before the loop: " + err.Error()
		} else if err := kmemleakCmd("clear"); err != nil {
			scanErr = "clear before the loop: " + err.Error()
		}
	}
	// A module its step left loaded is unloaded before the loop loads it.
	for _, n := range l.Steps {
		if s := byName[n]; alreadyLoaded(s.Module) {
			unload(s.Module)
		}
	}
	for round := 1; round <= l.Rounds; round++ {
		rec := Record{Event: "loop", Round: round}
		hung := false
		for _, n := range l.Steps {
			ld := loopLoad(dir, byName[n], max(timeout, time.Duration(byName[n].TimeoutSeconds)*time.Second))
			rec.Loads = append(rec.Loads, ld)
			if hung = ld.Hung; hung {
				break
			}
		}
		rec.Kmsg = klog.drain()
		w.write(rec)
		if hung {
			return
		}
	}
	if !l.Kmemleak {
		return
	}
	rec := Record{Event: "kmemleak", Kmemleak: kmemleakAfter(scan, scanErr)}
	rec.Kmsg = klog.drain()
	w.write(rec)
}

// loopLoad loads s, reads its BTF's digest and unloads it.
func loopLoad(dir string, s Step, timeout time.Duration) LoopLoad {
	ld := LoopLoad{Step: s.Name}
	errc := make(chan error, 1)
	go func() { errc <- load(filepath.Join(dir, s.File), s.Flags) }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(timeout):
		ld.Hung = true
		return ld
	}
	if err != nil {
		var en unix.Errno
		if errors.As(err, &en) {
			ld.Errno = int(en)
		} else {
			ld.Errno = -1
		}
		return ld
	}
	ld.Loaded = true
	if raw, err := os.ReadFile("/sys/kernel/btf/" + s.Module); err == nil {
		sum := sha256.Sum256(raw)
		ld.SysfsSHA256 = hex.EncodeToString(sum[:])
	}
	if err := unload(s.Module); err != nil {
		ld.UnloadErr = err.Error()
	}
	return ld
}

// kmemleakReady reports whether kmemleak's file is there, mounting
// debugfs where it is not yet.
func kmemleakReady() bool {
	if _, err := os.Stat(KmemleakFile); err == nil {
		return true
	}
	os.MkdirAll("/sys/kernel/debug", 0o755)
	unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	_, err := os.Stat(KmemleakFile)
	return err == nil
}

func kmemleakCmd(cmd string) error {
	f, err := os.OpenFile(KmemleakFile, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(cmd)
	return err
}

// kmemleakAfter scans twice and reads the report. kmemleak reports an
// object only once it is older than its minimum age (5 s), hence the wait;
// the second scan confirms what the first found (an object being moved
// between two pointers can look unreferenced once).
func kmemleakAfter(ready bool, before string) *KmemleakScan {
	if !ready {
		return &KmemleakScan{Absent: true, Error: fmt.Sprintf("no %s", KmemleakFile)}
	}
	k := &KmemleakScan{Error: before}
	time.Sleep(6 * time.Second)
	for i := range 2 {
		if err := kmemleakCmd("scan"); err != nil && k.Error == "" {
			k.Error = fmt.Sprintf("scan %d after the loop: %v", i+1, err)
		}
		time.Sleep(time.Second)
	}
	b, err := os.ReadFile(KmemleakFile)
	if err != nil && k.Error == "" {
		k.Error = "read: " + err.Error()
	}
	k.Bytes = len(b)
	if len(b) > MaxLeakReport {
		b = b[:MaxLeakReport]
	}
	k.Report = string(b)
	return k
}
