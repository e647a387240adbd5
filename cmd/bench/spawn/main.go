// Command spawn runs processes for cmd/bench's whole-process table and
// reports each one's wall time and peak RSS. It exists because a child's
// ru_maxrss also counts the address space it was forked from: started from
// bench itself (hundreds of MiB of corpus in memory), every child would
// report bench's size. spawn stays small (no os/exec, no encoding), so its
// children report their own.
//
// Protocol: a request is one stdin line, the program and its arguments
// separated by NUL bytes; the reply is one stdout line, "wall_ns cpu_ns
// maxrss_kb floor_kb status": cpu is user+system time, status 0 or the
// exit status (-1: not started). floor_kb is spawn's own VmHWM: a child
// reporting no more may have been smaller.
package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// Collect early: spawn's own heap is part of every child's ru_maxrss.
	debug.SetGCPercent(1)
	in := bufio.NewReader(os.Stdin)
	devnull, err := syscall.Open("/dev/null", syscall.O_RDWR, 0)
	if err != nil {
		os.Exit(2)
	}
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		argv := strings.Split(strings.TrimSuffix(line, "\n"), "\x00")
		wall, cpu, rss, status := run(argv, uintptr(devnull))
		reply := strconv.FormatInt(int64(wall), 10) + " " + strconv.FormatInt(int64(cpu), 10) + " " +
			strconv.FormatInt(rss, 10) + " " + strconv.FormatInt(hwm(), 10) + " " + strconv.Itoa(status) + "\n"
		if _, err := os.Stdout.WriteString(reply); err != nil {
			os.Exit(1)
		}
	}
}

// run starts argv with stdin and stdout on /dev/null and stderr inherited,
// and waits for it.
func run(argv []string, devnull uintptr) (wall, cpu time.Duration, rss int64, status int) {
	t := time.Now()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{devnull, devnull, 2},
	})
	if err != nil {
		os.Stderr.WriteString("spawn: " + argv[0] + ": " + err.Error() + "\n")
		return 0, 0, 0, -1
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err := syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return time.Since(t), cpu, ru.Maxrss, ws.ExitStatus()
}

// hwm is this process's VmHWM in KiB (not getrusage: ru_maxrss of a process
// also counts the address space of the process that started it).
func hwm() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
