package realdata

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records Skipf/Fatalf and stops the goroutine like the real ones.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestKernelMissing(t *testing.T) {
	for _, tc := range []struct {
		name, require   string
		release         string
		wantSkip, wantF string
	}{
		{"skip", "", "6.12.117", Message, ""},
		{"require", "1", "6.12.117", "", Message},
		{"not in catalog fails even without require", "", "6.12.999", "", "kernel not in catalog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BTFRECON_CACHE", t.TempDir()) // an empty cache
			t.Setenv(RequireEnv, tc.require)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Kernel(f, tc.release, "amd64")
				t.Error("Kernel returned with no data")
			}()
			<-done
			if tc.wantSkip != "" && !strings.HasPrefix(f.skipped, tc.wantSkip) {
				t.Errorf("skipped = %q, want prefix %q", f.skipped, tc.wantSkip)
			}
			if tc.wantF != "" && !strings.Contains(f.failed, tc.wantF) {
				t.Errorf("failed = %q, want %q", f.failed, tc.wantF)
			}
			if (tc.wantSkip == "") != (f.skipped == "") || (tc.wantF == "") != (f.failed == "") {
				t.Errorf("skipped %q failed %q", f.skipped, f.failed)
			}
		})
	}
}
