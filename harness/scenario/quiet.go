package scenario

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/btfrecon/btfrecon/harness/vm"
)

// With CONFIG_MODULE_ALLOW_BTF_MISMATCH=y a kernel that has 9cb61e50bf6b
// (6.12; our 6.1 series' patch 3) loads a module whose BTF it refuses
// without BTF and says so once ("Kernel module BTF mismatch detected"),
// with no per-type verifier message ("BPF: ..."). Messages logged through
// plain btf_verifier_log(), the meta check's "[id] Invalid name_offset",
// print either way and are not counted. Options.QuietMismatch holds a
// boot to that.

var (
	perTypeRe  = regexp.MustCompile(`(^|\] )BPF: `)
	nameOffRe  = regexp.MustCompile(`BPF: \[[0-9]+\] Invalid name_offset`)
	mismatchRe = regexp.MustCompile(`Kernel module BTF mismatch detected`)
)

// quietMismatch is "" when a boot's kernel log holds no per-type
// verifier message and the mismatch notice at most once, else what it
// holds. The guest's records hold every line (the console only those at
// its log level).
func quietMismatch(b *vm.Boot) string {
	perType, notices := 0, 0
	first := ""
	for _, rec := range b.Records {
		for _, l := range rec.Kmsg {
			if perTypeRe.MatchString(l) && !nameOffRe.MatchString(l) {
				if perType == 0 {
					first = l
				}
				perType++
			}
			if mismatchRe.MatchString(l) {
				notices++
			}
		}
	}
	var why []string
	if perType > 0 {
		why = append(why, fmt.Sprintf("%d per-type verifier messages (first: %q)", perType, first))
	}
	if notices > 1 {
		why = append(why, fmt.Sprintf("the mismatch notice %d times", notices))
	}
	return strings.Join(why, "; ")
}
