package vm

import (
	"regexp"
	"strings"
)

// A splat is the part of a kernel oops a report needs: what went wrong,
// where (x86's RIP, arm64's pc), the call trace by function, and what
// stopped the kernel. Register dumps, code bytes and the user-space frame
// are left out: they make a report long and say nothing a reader of the
// BPF list can act on.

var (
	stampRe = regexp.MustCompile(`^\[ *[0-9]+\.[0-9]+\] ?`)
	splatRe = regexp.MustCompile(`^(BUG: |Oops: |Unable to handle kernel |general protection fault|kernel BUG at |WARNING: |Internal error: )`)
	frameRe = regexp.MustCompile(`^\s*([A-Za-z_][\w.]*\+0x[0-9a-f]+/0x[0-9a-f]+)`)
)

// Splat returns the first oops of a console log, trimmed: its first line,
// the faulting site, the call trace frames (unreliable "?" frames dropped)
// on one line each, and the panic line if the oops ended in one; nil when
// the console holds none.
func Splat(console string) []string {
	var out []string
	inTrace, started, ended := false, false, false
	for _, raw := range strings.Split(console, "\n") {
		l := strings.TrimRight(stampRe.ReplaceAllString(strings.TrimRight(raw, "\r"), ""), " ")
		switch {
		case !started:
			if splatRe.MatchString(l) {
				out, started = append(out, l), true
			}
		case strings.HasPrefix(l, "Kernel panic"):
			return append(out, l)
		case ended:
			// the registers again, then maybe the panic line
		case strings.HasPrefix(l, "---[ end trace"):
			ended, inTrace = true, false
		case strings.HasPrefix(l, "Call Trace:") || strings.HasPrefix(l, "Call trace:"):
			inTrace = true
			out = append(out, "Call Trace:")
		case inTrace && (strings.Contains(l, "</TASK>") || strings.HasPrefix(l, "RIP: 0033:") || strings.HasPrefix(l, "Code:")):
			inTrace = false
		case inTrace:
			if m := frameRe.FindStringSubmatch(l); m != nil {
				out = append(out, "  "+m[1])
			}
		case strings.HasPrefix(l, "RIP: ") || strings.HasPrefix(l, "pc : ") || strings.HasPrefix(l, "lr : "):
			out = append(out, l)
		}
	}
	return out
}
