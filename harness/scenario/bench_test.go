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

// BenchmarkEveryModule: the whole package end to end, as `vm run --modules
// all` runs it (6.12.107 -> 6.12.117 amd64: preparing every module, the
// schedule of boots two at a time, judging). Metrics: modules-compared/s
// (modules whose sysfs BTF was compared with the model, per second of wall
// time), compared/op, wall-s/op, host-prepare-s/op (every module file
// distilled, relocated, written), boots/op, guest-load-ms/module
// (finit_module, the module's own init included) and
// guest-overhead-ms/module (the rest of the guest's time a step: the
// sysfs read and digest, kfunc probes, the records, the kernel log).
// BTFRECON_BENCH_ARCH, _BUILD and _RUN pick the kernels. Needs
// BTFRECON_VM=1 and a run of minutes (make vm-bench-every).
func BenchmarkEveryModule(b *testing.B) {
	if os.Getenv("BTFRECON_VM") != "1" {
		b.Skip("boots VMs for minutes: run with BTFRECON_VM=1 (make vm-bench-every)")
	}
	arch, build, run := envOr("BTFRECON_BENCH_ARCH", "amd64"), envOr("BTFRECON_BENCH_BUILD", "6.12.107"), envOr("BTFRECON_BENCH_RUN", "6.12.117")
	realdata.Kernel(b, build, arch)
	realdata.Kernel(b, run, arch)
	var sum Summary
	var wall, prep float64
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
		rep, err := Run(ctx, Options{Arch: arch, Build: build, Run: run, All: true, Boots: 2, Parallel: 2,
			ExtraBoots: 24, StepTimeout: 20 * time.Second, Work: b.TempDir(), VM: []vm.Option{vm.Memory(2048), vm.WithAccel(vm.AccelTCG)}})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Summary.Disagreements > 0 {
			b.Fatalf("%d disagreements", rep.Summary.Disagreements)
		}
		sum = rep.Summary
		wall += float64(sum.WallSeconds)
		prep += float64(sum.HostPrepareSeconds)
	}
	n := float64(b.N)
	b.ReportMetric(float64(sum.Identical+sum.Differences)/(wall/n), "modules-compared/s")
	b.ReportMetric(wall/n, "wall-s/op")
	b.ReportMetric(prep/n, "host-prepare-s/op")
	b.ReportMetric(float64(sum.Identical+sum.Differences), "compared/op")
	b.ReportMetric(float64(sum.Boots), "boots/op")
	b.ReportMetric(sum.GuestLoadMs, "guest-load-ms/module")
	b.ReportMetric(sum.GuestOverheadMs, "guest-overhead-ms/module")
	b.Logf("%s: %d modules, %d loaded, %d identical, %d not loaded, %d boots", arch, sum.Modules, sum.Loaded, sum.Identical,
		sum.Modules-sum.Loaded, sum.Boots)
}

// envOr is the environment variable k, or def when it is unset.
func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
