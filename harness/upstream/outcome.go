package upstream

import (
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Outcome is what one kernel did with one row, from its report.
type Outcome struct {
	Found  bool
	Kernel string // scenario's kernel outcome: btf, no-btf, load-failed, crashed, hung, not-run
	Crash  string // where an oops of this load stopped
	Detail string // a hang's boot detail (the lockup, or the timeout)
	KASAN  string // the first KASAN report line of this load
	// Splat is the first line of an oops or KASAN report in this row's
	// boot that no other row of it owns.
	Splat   string
	Errno   int
	Message string // the kernel's first line about the load
	Agree   bool   // kernel and model agree (validate's judgement)
}

// outcomes reads every case row of a report, by label; a row owns the
// boot's oops when it crashed, and when no row crashed every row shares it.
func outcomes(r *Report) map[string]Outcome {
	crashed := false
	for _, row := range r.Rows {
		crashed = crashed || row.Kernel == "crashed"
	}
	splat := ""
	if len(r.Summary.Splat) > 0 {
		splat = r.Summary.Splat[0]
	}
	out := map[string]Outcome{}
	for _, row := range r.Rows {
		if !strings.Contains(row.Role, ":") {
			continue // a module's own row, not a case
		}
		o := Outcome{Found: true, Kernel: row.Kernel, Errno: row.Errno, Agree: row.Agree,
			KASAN: kasanLine(row.Kmsg), Message: message(row.Kmsg)}
		switch row.Kernel {
		case "crashed":
			o.Crash = first(row.CrashSite, r.Summary.CrashSite, "an unknown site")
			if o.KASAN == "" {
				o.KASAN = kasanLine(r.Summary.Splat)
			}
		case "hung":
			o.Detail = first(r.Summary.BootDetail, r.Summary.BootVerdict)
		}
		if row.Kernel == "crashed" || !crashed {
			o.Splat = splat
		}
		out[row.Role] = o
	}
	return out
}

// kasanLine is the first "BUG: KASAN:" line, from the BUG on.
func kasanLine(lines []string) string {
	for _, l := range lines {
		if i := strings.Index(l, "BUG: KASAN:"); i >= 0 {
			return clip(strings.TrimSpace(l[i:]), 90)
		}
	}
	return ""
}

// message is the kernel's first line about the load that is neither a
// KASAN report's (its header, the access) nor a taint's.
func message(lines []string) string {
	for _, l := range lines {
		if strings.Contains(l, "KASAN") || strings.Contains(l, " of size ") || strings.Contains(l, "taint") ||
			strings.HasPrefix(strings.TrimSpace(l), "=====") {
			continue
		}
		if l = strings.TrimSpace(l); l != "" {
			return clip(l, 110)
		}
	}
	return ""
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// errnoName is -EINVAL for 22.
func errnoName(n int) string {
	if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
		return "-" + name
	}
	return fmt.Sprintf("errno %d", n)
}

// String says what the kernel did in a few words.
func (o Outcome) String() string {
	var s string
	switch o.Kernel {
	case "":
		return "no row"
	case "crashed":
		s = "crashed in " + o.Crash
	case "hung":
		s = "hung (" + o.Detail + ")"
	case "load-failed":
		s = "refused, " + errnoName(o.Errno)
	case "no-btf":
		s = "BTF refused, loaded without it"
	case "btf":
		s = "loaded with BTF"
		if !o.Agree {
			s += " the model refuses"
		}
	default:
		s = o.Kernel
	}
	if o.KASAN != "" {
		s = "KASAN report (" + o.KASAN + "), " + s
	}
	if o.Message != "" && o.Kernel != "crashed" && o.Kernel != "hung" {
		s += ": " + o.Message
	}
	return s
}
