// Package realdata gives tests the real Debian kernels from the cache, and
// keeps `go test` offline: it never downloads. Without the data a test is
// skipped (run `make testdata`), unless BTFRECON_REQUIRE_DATA=1, as in CI
// after `make testdata`, where a missing kernel must fail loudly instead.
package realdata

import (
	"errors"
	"os"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// RequireEnv is the environment variable that turns a skip into a failure.
const RequireEnv = "BTFRECON_REQUIRE_DATA"

// Message is the skip/fail text for missing data.
const Message = "real data not cached: run make testdata"

// Kernel returns the cached kernel (release, arch), e.g. ("6.12.117",
// "amd64"), or skips t (fails it under BTFRECON_REQUIRE_DATA=1).
func Kernel(t testing.TB, release, arch string) *kernels.Kernel {
	t.Helper()
	k, err := kernels.Open(release, arch)
	if err != nil {
		if !errors.Is(err, kernels.ErrNotCached) {
			t.Fatalf("realdata %s %s: %v", release, arch, err) // not in the catalog, or a broken cache
		}
		hint := ""
		if arch != "amd64" {
			hint = "; make testdata-" + arch
		}
		missing(t, err.Error()+hint)
	}
	return k
}

// Headers returns the cached kernel and skips (or fails) unless its headers
// package, with the vmlinux ELF, is cached too (make testdata-headers).
func Headers(t testing.TB, release, arch string) *kernels.Kernel {
	t.Helper()
	k := Kernel(t, release, arch)
	if _, ok := k.HeadersVmlinux(); !ok {
		missing(t, release+" "+arch+": headers vmlinux (make testdata-headers)")
	}
	return k
}

// VmlinuxBTF returns the raw vmlinux BTF of a cached kernel.
func VmlinuxBTF(t testing.TB, release, arch string) []byte {
	t.Helper()
	_, raw := Vmlinux(t, release, arch)
	return raw
}

// Vmlinux returns the vmlinux BTF of a cached kernel, decoded and raw.
func Vmlinux(t testing.TB, release, arch string) (*btf.Spec, []byte) {
	t.Helper()
	s, raw, err := Kernel(t, release, arch).Vmlinux()
	if err != nil {
		t.Fatal(err)
	}
	return s, raw
}

func missing(t testing.TB, detail string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s)", Message, detail)
	}
	t.Skipf("%s (%s)", Message, detail)
}
