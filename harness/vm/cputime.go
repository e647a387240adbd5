package vm

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The wall time of a boot on a shared host says as much about the other
// jobs on it as about the boot; the CPU time QEMU used does not (much).
// vmtest does not hand out QEMU's process, so the boot finds it by its
// command line in /proc and samples its utime+stime until it exits.

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on
// every Linux architecture btfrecon runs on).
const clockTicks = 100

// cpuMeter samples one process's CPU time.
type cpuMeter struct {
	ticks atomic.Int64
	done  chan struct{}
}

// meterProcess finds the process whose command line is argv (within a few
// seconds of its start) and samples its CPU time every second until stop.
func meterProcess(argv []string) *cpuMeter {
	m := &cpuMeter{done: make(chan struct{})}
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	go func() {
		var pid string
		for range 50 {
			if pid = findProcess(want); pid != "" {
				break
			}
			select {
			case <-m.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		if pid == "" {
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if t, ok := processTicks(pid); ok {
				m.ticks.Store(t)
			}
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// stop ends the sampling and returns the last CPU time seen, in seconds
// (0 when the process was not found).
func (m *cpuMeter) stop() float64 {
	close(m.done)
	return float64(m.ticks.Load()) / clockTicks
}

// findProcess returns the pid (as a string) of a process whose
// /proc/<pid>/cmdline is cmdline, or "".
func findProcess(cmdline []byte) string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "cmdline")); err == nil && bytes.Equal(b, cmdline) {
			return filepath.Base(d)
		}
	}
	return ""
}

// processTicks is utime+stime of /proc/<pid>/stat.
func processTicks(pid string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	return statTicks(b)
}

// statTicks reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat
// line; the command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last ')'.
func statTicks(stat []byte) (int64, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + s, true
}
