package scenario

import (
	"regexp"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/harness/vm"
)

// A KASAN report does not stop the kernel (unless kasan.fault=panic or
// panic_on_warn): the boot ends clean and harness/vm calls it Clean. The
// scenario reads the console for the reports instead, and a boot with one
// disagrees whatever its rows say.

var kasanRe = regexp.MustCompile(`BUG: KASAN: .*`)

// kasanReports returns the head line of each KASAN report in a console
// log ("BUG: KASAN: slab-out-of-bounds in f+0x../0x.."), in order.
func kasanReports(console string) []string {
	var out []string
	for _, l := range strings.Split(console, "\n") {
		if m := kasanRe.FindString(strings.TrimRight(l, "\r ")); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// bootKASAN is a boot's KASAN reports: the console's, and any the guest's
// records hold that the console missed (a report printed below the
// console's log level).
func bootKASAN(b *vm.Boot) []string {
	out := kasanReports(b.Console)
	for _, rec := range b.Records {
		for _, l := range rec.Kmsg {
			if m := kasanRe.FindString(l); m != "" && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}
