package scenario

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// A schedule's first boots run side by side, so the run takes as long as
// its slowest: the modules are partitioned by what each costs a boot. A
// module's size says little of that (test_bpf runs its test suite at
// init: 110 s under TCG for 4.7 MiB; most modules take 30-80 ms whatever
// their size), so every scheduled run keeps the milliseconds each step
// took in $CACHE/vm/costs/<release>-<arch>.json, and the next run on that
// kernel partitions by them; a module never timed is guessed from its size.

// costs are milliseconds a step, by module.
type costs map[string]float64

func costFile(release, arch string) string {
	dir, err := cache.Sub("vm", "costs")
	if err != nil {
		return ""
	}
	return filepath.Join(dir, release+"-"+arch+".json")
}

// loadCosts reads what earlier runs measured on a kernel (none: empty).
func loadCosts(release, arch string) costs {
	c := costs{}
	if f := costFile(release, arch); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			json.Unmarshal(b, &c)
		}
	}
	return c
}

// saveCosts merges what this run measured into the kernel's costs.
func saveCosts(release, arch string, rows []Row) error {
	f := costFile(release, arch)
	if f == "" {
		return nil
	}
	c := loadCosts(release, arch)
	for _, r := range rows {
		// A load cut off by its timeout, or judged while its init was
		// still at work, says only how long it was given.
		if r.Millis > 0 && r.Kernel != KernelHung && r.Kernel != KernelCrashed && r.Kernel != KernelInitRunning {
			c[r.Module] = float64(r.Millis)
		}
	}
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	return kmod.WriteFileAtomic(f, b, 0o644)
}

// cost is a module's measured cost, or a guess from its file size (about
// 40 ms and 0.8 ms a KiB under TCG, fitted on 6.12 amd64).
func (c costs) cost(module string, size int64) float64 {
	if ms, ok := c[module]; ok {
		return ms
	}
	return 40 + float64(size)/1250
}
