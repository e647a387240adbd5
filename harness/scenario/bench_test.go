package scenario

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// BenchmarkBootToVerdict: one scenario per iteration, from prepared inputs
// to a compared report (host preparation, the boot, the diff). Reported
// metrics: boot-s (QEMU wall time), s/module (boot time over modules) and
// the accelerator as a label in the name. Needs BTFRECON_VM=1 (make vm-bench).
func BenchmarkBootToVerdict(b *testing.B) {
	if os.Getenv("BTFRECON_VM") != "1" {
		b.Skip("boots a VM: run with BTFRECON_VM=1 (make vm-bench)")
	}
	for _, tc := range []struct {
		name    string
		arch    string
		modules []string
	}{
		{"kernel=6.12.117/amd64/modules=0", "amd64", []string{}},
		{"kernel=6.12.117/amd64/modules=8", "amd64", []string{"nls_utf8", "nls_cp437", "vfat", "isofs", "udf", "crc_itu_t"}},
		{"kernel=6.12.117/arm64/modules=0", "arm64", []string{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			realdata.Kernel(b, "6.12.117", tc.arch)
			realdata.Kernel(b, "6.12.107", tc.arch)
			var boot float64
			mods := 0
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
				rep, err := Run(ctx, Options{Arch: tc.arch, Build: "6.12.107", Run: "6.12.117", Modules: tc.modules,
					Work: b.TempDir(), VM: []vm.Option{vm.Timeout(10 * time.Minute)}})
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if rep.Disagree() {
					b.Fatalf("disagreement: %+v", rep.Summary)
				}
				boot += rep.Summary.BootSeconds
				mods = rep.Summary.Modules
			}
			b.ReportMetric(boot/float64(b.N), "boot-s/op")
			if mods > 0 {
				b.ReportMetric(boot/float64(b.N)/float64(mods), "boot-s/module")
			}
		})
	}
}
