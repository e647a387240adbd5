package upstream

import (
	"fmt"
	"os"
	"path/filepath"
)

// Views are the two kernels of a validate run laid out as vm run takes a
// kernel (vmlinux, the boot image, lib/modules/<release>/extra/ holding
// the test modules built against it): validate makes them under
// KBUILD/validate/<A key>-<B key>/{A,B}. The report names the builds, not
// the views, so they are found from the keys.
func Views(kbuild string, v *Validate) (a, b string, err error) {
	if len(v.Builds) != 2 {
		return "", "", fmt.Errorf("%w: %d builds, want two", ErrReport, len(v.Builds))
	}
	work := filepath.Join(kbuild, "validate", v.Builds[0].Key+"-"+v.Builds[1].Key)
	a, b = filepath.Join(work, "A"), filepath.Join(work, "B")
	for _, d := range []string{a, b} {
		if _, err := os.Stat(filepath.Join(d, "vmlinux")); err != nil {
			return "", "", fmt.Errorf("validate's kernel view %s: %w", d, err)
		}
	}
	return a, b, nil
}
