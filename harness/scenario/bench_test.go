package scenario

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// benchModules are loaded in the modules=N cases (dependencies come on top:
// cdrom, crc_itu_t, fat).
var benchModules = []string{"nls_utf8", "nls_cp437", "vfat", "isofs", "udf", "crc_itu_t"}

// BenchmarkBootToVerdict: one scenario per iteration, from prepared inputs
// to a compared report (host preparation, the boot, the diff), per running
// kernel and architecture, with no module (the boot alone) and with a few.
// Metrics: boot-s/op (QEMU wall time of the boot), to-test-s/op (kernel
// clock when the guest test started), setup-s/op (the guest test's set-up),
// off-clock-s/op (QEMU, firmware, decompression: wall time before the kernel
// clock runs), and steps-s/module (guest time per module load, sysfs read,
// copy and cilium check). Needs BTFRECON_VM=1 (make vm-bench).
func BenchmarkBootToVerdict(b *testing.B) {
	if os.Getenv("BTFRECON_VM") != "1" {
		b.Skip("boots a VM: run with BTFRECON_VM=1 (make vm-bench)")
	}
	for _, k := range []struct{ run, arch string }{{"6.12.117", "amd64"}, {"6.12.107", "amd64"}, {"6.12.117", "arm64"}} {
		for _, mods := range [][]string{{}, benchModules} {
			b.Run(fmt.Sprintf("kernel=%s/%s/modules=%d", k.run, k.arch, len(mods)), func(b *testing.B) {
				realdata.Kernel(b, k.run, k.arch)
				realdata.Kernel(b, "6.12.107", k.arch)
				var sum Summary
				var boot, toTest, setup, outside, steps float64
				for b.Loop() {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
					rep, err := Run(ctx, Options{Arch: k.arch, Build: "6.12.107", Run: k.run, Modules: mods,
						Work: b.TempDir(), VM: []vm.Option{vm.Timeout(10 * time.Minute)}})
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					if rep.Disagree() {
						b.Fatalf("disagreement: %+v", rep.Summary)
					}
					sum = rep.Summary
					p := sum.BootPhases
					boot += float64(sum.BootSeconds)
					toTest, setup, outside, steps = toTest+p.ToTest, setup+p.Setup, outside+p.Outside, steps+p.Steps
				}
				n := float64(b.N)
				b.ReportMetric(boot/n, "boot-s/op")
				b.ReportMetric(toTest/n, "to-test-s/op")
				b.ReportMetric(setup/n, "setup-s/op")
				b.ReportMetric(outside/n, "off-clock-s/op")
				if sum.Modules > 0 {
					b.ReportMetric(steps/n/float64(sum.Modules), "steps-s/module")
				}
				b.Logf("%s on %s: %s, %d modules", sum.Accel, sum.Run, sum.BootVerdict, sum.Modules)
			})
		}
	}
}
