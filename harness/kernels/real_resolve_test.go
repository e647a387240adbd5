package kernels_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

// CheckEnv turns on TestRealResolve: it needs the network (Debian's
// mirror), so plain `go test` skips it; `make kernels-check` sets it. "1"
// checks the default releases; a comma-separated list of release/arch
// (e.g. "6.12.113/amd64,6.12.117+deb13/arm64") checks those instead.
const checkEnv = "BTFRECON_KERNELS_CHECK"

// The default releases: a bookworm point release the catalog does not pin,
// and sid's 7.2.13 (split packages: linux-binary-unsigned, linux-modules,
// linux-base).
var checkReleases = []string{"6.12.111/amd64", "7.2.13+deb14/amd64"}

// TestRealResolve resolves releases from the real archive (a fresh look-up
// every run, compared with what the cache pinned before), fetches their
// boot packages into the cache, and opens them: vmlinux BTF decodes with
// harness/btf and equals what vmlinuz holds, modules are listed, the config
// has the keys the load model reads. Then a release the archive lacks must
// be refused with its nearest neighbours.
func TestRealResolve(t *testing.T) {
	spec := os.Getenv(checkEnv)
	if spec == "" {
		t.Skip(checkEnv + " not set: needs the network (make kernels-check)")
	}
	rels := checkReleases
	if spec != "1" {
		rels = strings.Split(spec, ",")
	}
	ctx := context.Background()
	f := &kernels.Fetcher{Progress: testWriter{t}}
	root, err := f.CacheRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, ra := range rels {
		release, arch, ok := strings.Cut(ra, "/")
		if !ok {
			t.Fatalf("%s=%s: want release/arch items", checkEnv, spec)
		}
		t.Run(release+"-"+arch, func(t *testing.T) {
			if vmimages.Pinned().Has(release, arch) {
				t.Fatalf("%s %s is pinned in %s: check a release that must be resolved", release, arch, vmimages.CatalogName)
			}
			before, _ := kernels.LookupIn(root, release, arch)
			start := time.Now()
			set, err := f.Resolve(ctx, release, arch)
			if err != nil {
				t.Fatal(err)
			}
			resolveTime := time.Since(start)
			if len(before.Entries) > 0 && !sameEntries(before.Entries, set.Entries) {
				t.Logf("the archive moved on since the last resolution: %v -> %v", before.Entries, set.Entries)
			}
			wantKinds := []vmimages.Kind{vmimages.KindImage}
			if set.Suite().Split {
				wantKinds = append(wantKinds, vmimages.KindModules, vmimages.KindLinuxBase)
			}
			for i, k := range wantKinds {
				if b := set.Boot(); len(b) != len(wantKinds) || b[i].Kind != k {
					t.Fatalf("boot packages %v, want kinds %v", b, wantKinds)
				}
			}
			start = time.Now()
			k, err := f.Get(ctx, release, arch, false)
			if err != nil {
				t.Fatal(err)
			}
			fetchTime := time.Since(start)
			start = time.Now()
			raw, err := k.VmlinuxBTF()
			if err != nil {
				t.Fatal(err)
			}
			spec, err := btf.Parse(raw)
			if err != nil {
				t.Fatalf("harness/btf refuses %s vmlinux BTF (%d bytes): %v", k, len(raw), err)
			}
			fromVmlinuz, err := k.VmlinuzBTF()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromVmlinuz, raw) {
				t.Errorf("vmlinuz BTF (%d bytes) != cached vmlinux BTF (%d bytes)", len(fromVmlinuz), len(raw))
			}
			btfTime := time.Since(start)
			mods, err := k.Modules()
			if err != nil {
				t.Fatal(err)
			}
			if len(mods) < 1000 {
				t.Errorf("%d modules", len(mods))
			}
			if _, err := k.Module("9pnet_virtio"); err != nil {
				t.Error(err)
			}
			cfg, err := k.Config()
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"CONFIG_MODULE_ALLOW_BTF_MISMATCH", "CONFIG_PAHOLE_VERSION", "CONFIG_DEBUG_INFO_BTF_MODULES"} {
				if _, ok := cfg[key]; !ok {
					t.Errorf("config has no %s", key)
				}
			}
			vmlinuz, _ := k.Vmlinuz()
			t.Logf("%s: resolve %.1fs, fetch+open %.1fs, BTF %.1fs; %d packages (%s); vmlinux BTF %d bytes, %d types, hdr_len %d; %d modules; MODULE_ALLOW_BTF_MISMATCH=%s PAHOLE_VERSION=%s; vmlinuz %s",
				k, resolveTime.Seconds(), fetchTime.Seconds(), btfTime.Seconds(), len(set.Entries), set.Image().Where(), len(raw), spec.NumLocal(), spec.Header().HdrLen,
				len(mods), cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"], cfg["CONFIG_PAHOLE_VERSION"], vmlinuz)
		})
	}
	t.Run("missing release", func(t *testing.T) {
		start := time.Now()
		_, err := f.Resolve(ctx, "6.12.1", "amd64")
		if !errors.Is(err, kernels.ErrNotInArchive) || !strings.Contains(err.Error(), "nearest bookworm releases it has: 6.12.") {
			t.Fatalf("err = %v, want ErrNotInArchive with the nearest bookworm releases", err)
		}
		t.Logf("%.1fs: %v", time.Since(start).Seconds(), err)
	})
}

func sameEntries(a, b []vmimages.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Package != b[i].Package || a[i].Version != b[i].Version || a[i].SHA256 != b[i].SHA256 || a[i].Size != b[i].Size {
			return false
		}
	}
	return true
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
