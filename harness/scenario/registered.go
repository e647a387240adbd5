package scenario

import (
	"fmt"
	"regexp"
	"strings"
)

// Our test modules (kernel-patch/testmod, testmodule/kfuncset,
// kernel-patch/upstream/testmod) print what their init's registrations
// returned: "<module>: [loaded, ]kfunc set registered: E[, dtor registered:
// D]". A kfunc set or destructor table whose ids were relocated wrongly is
// refused there (btf_check_dtor_kfuncs: -EINVAL) while the module loads and
// serves its BTF: only this line shows it.
var registeredRe = regexp.MustCompile(`(kfunc set|dtor) registered: (-?\d+)`)

// registrationFailures lists each registration a module's init reported as
// failed, from its kernel log lines ("" when every one returned 0 or the
// module prints none).
func registrationFailures(kmsg []string) string {
	var bad []string
	for _, l := range kmsg {
		for _, m := range registeredRe.FindAllStringSubmatch(l, -1) {
			if m[2] != "0" {
				bad = append(bad, m[1]+" "+m[2])
			}
		}
	}
	return strings.Join(bad, ", ")
}

// judgeRegistered fails a row that kept its BTF but whose module's init
// could not register its kfunc set or destructors with it.
func judgeRegistered(row Row, kmsg []string) Row {
	if bad := registrationFailures(kmsg); bad != "" {
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: the module kept its BTF, but its init failed to register with it (%s)", bad)
	}
	return row
}
