package modbuild

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/vmimages"
)

func TestSpecKey(t *testing.T) {
	a := ChrootSpec{Suite: "trixie", Include: []string{"make", "gcc", "make"}, Debs: []Deb{{"/x/a.deb", "11"}, {"/y/b.deb", "22"}}}
	b := ChrootSpec{Suite: "trixie", Include: []string{"gcc", "make"}, Debs: []Deb{{"/elsewhere/a.deb", "11"}, {"/y/b.deb", "22"}}}
	if a.Key() != b.Key() {
		t.Errorf("include order, duplicates and the .debs' directories changed the key:\n%s\n%s", a.Describe(), b.Describe())
	}
	if !strings.HasPrefix(a.Key(), "trixie-") || len(a.Key()) != len("trixie-")+12 {
		t.Errorf("key %q", a.Key())
	}
	for name, c := range map[string]ChrootSpec{
		"suite":     {Suite: "sid", Include: a.Include, Debs: a.Debs},
		"sha256":    {Suite: "trixie", Include: a.Include, Debs: []Deb{{"/x/a.deb", "12"}, {"/y/b.deb", "22"}}},
		"deb order": {Suite: "trixie", Include: a.Include, Debs: []Deb{a.Debs[1], a.Debs[0]}},
		"include":   {Suite: "trixie", Include: []string{"gcc"}, Debs: a.Debs},
		"foreign":   {Suite: "trixie", Include: a.Include, Debs: a.Debs, ForeignArch: "arm64"},
		"mirror":    {Suite: "trixie", Include: a.Include, Debs: a.Debs, Mirror: "http://example.org/debian"},
	} {
		if c.Key() == a.Key() {
			t.Errorf("a different %s gave the same key", name)
		}
	}
}

// The Depends fields of the real headers packages (dpkg-deb -f ... Depends
// of Debian's linux-headers-6.12.107+deb13-amd64, linux-kbuild-6.12.107+deb13,
// linux-headers-7.2.13+deb14-amd64): what apt would pull from the suite.
func TestSuiteDeps(t *testing.T) {
	have := map[string]bool{"linux-headers-6.12.107+deb13-common": true, "linux-kbuild-6.12.107+deb13": true,
		"linux-headers-7.2.13+deb14-common": true, "linux-kbuild-7.2.13+deb14": true}
	for _, tc := range []struct{ depends, want string }{
		{"linux-base (>= 4.12~), linux-headers-6.12.107+deb13-common (= 6.12.107-1), linux-image-6.12.107+deb13-amd64 (= 6.12.107-1) | linux-image-6.12.107+deb13-amd64-unsigned (= 6.12.107-1), linux-kbuild-6.12.107+deb13, gcc-14",
			"linux-base gcc-14"},
		{"libc6 (>= 2.38), libelf1t64 (>= 0.144), libssl3t64 (>= 3.0.0), zlib1g (>= 1:1.2.3.4), pahole",
			"libc6 libelf1t64 libssl3t64 zlib1g pahole"},
		{"gcc-16-for-host, linux-base (>= 4.12~), linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), linux-headers-7.2.13+deb14-common (= 7.2.13-1), linux-kbuild-7.2.13+deb14",
			"gcc-16-for-host linux-base"},
		{"foo:any | bar, ", "foo"},
		{"", ""},
	} {
		if got := strings.Join(suiteDeps(tc.depends, have), " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.depends, got, tc.want)
		}
	}
}

// fakeBootstrap replaces debootstrap for the duration of a test.
func fakeBootstrap(t *testing.T, f func(ctx context.Context, tmp string) error) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	old := bootstrap
	bootstrap = func(ctx context.Context, parent, tmp string, spec ChrootSpec, log io.Writer) error {
		calls.Add(1)
		return f(ctx, tmp)
	}
	t.Cleanup(func() { bootstrap = old })
	return &calls
}

func TestEnsureOnceAndCached(t *testing.T) {
	cache := t.TempDir()
	calls := fakeBootstrap(t, func(ctx context.Context, tmp string) error {
		return os.WriteFile(filepath.Join(tmp, "root-file"), []byte("x"), 0o644)
	})
	spec := ChrootSpec{Suite: "trixie", Include: []string{"gcc"}}
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Ensure(context.Background(), cache, spec, nil)
			if err != nil {
				t.Error(err)
				return
			}
			dirs[i] = c.Dir
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("4 concurrent Ensures bootstrapped %d times, want 1", n)
	}
	want := filepath.Join(cache, "chroot", spec.Key())
	for _, d := range dirs {
		if d != want {
			t.Errorf("dir %q, want %q", d, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(want, completeFile)); err != nil || string(b) != spec.Describe() {
		t.Errorf("marker %q, %v", b, err)
	}
	c, err := Ensure(context.Background(), cache, spec, nil)
	if err != nil || c.Built || calls.Load() != 1 {
		t.Errorf("second Ensure: built %v, %d bootstraps, %v", c != nil && c.Built, calls.Load(), err)
	}
	if c.Size == 0 {
		t.Errorf("the set-up's size was not recorded")
	}
}

// A set-up killed half-way leaves its temporary directory; the next run
// says so, removes it and starts over. One cancelled returns
// ErrInterrupted and leaves nothing.
func TestEnsureInterrupted(t *testing.T) {
	cache := t.TempDir()
	spec := ChrootSpec{Suite: "sid"}
	parent := filepath.Join(cache, "chroot")
	left := filepath.Join(parent, "."+spec.Key()+".tmp-12345")
	if err := os.MkdirAll(filepath.Join(left, "usr", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A directory under the final name without a marker: a half-made or
	// foreign tree, not to be trusted either.
	if err := os.MkdirAll(filepath.Join(parent, spec.Key(), "etc"), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	fakeBootstrap(t, func(ctx context.Context, tmp string) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	})
	var log bytes.Buffer
	_, err := Ensure(ctx, cache, spec, &log)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled set-up: %v, want ErrInterrupted", err)
	}
	if !strings.Contains(log.String(), "left by an interrupted set-up") || !strings.Contains(log.String(), left) {
		t.Errorf("log does not name what it removed:\n%s", log.String())
	}
	if m, _ := filepath.Glob(filepath.Join(parent, "."+spec.Key()+".tmp-*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
	if _, err := os.Stat(filepath.Join(parent, spec.Key())); !os.IsNotExist(err) {
		t.Errorf("the untrusted tree is still there: %v", err)
	}

	calls := fakeBootstrap(t, func(ctx context.Context, tmp string) error { return nil })
	c, err := Ensure(context.Background(), cache, spec, nil)
	if err != nil || !c.Built || calls.Load() != 1 {
		t.Fatalf("the run after: %+v, %v", c, err)
	}
	ents, _ := os.ReadDir(parent)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"." + spec.Key() + ".lock", spec.Key()}; !slices.Equal(names, want) {
		t.Errorf("chroot/ holds %v, want %v", names, want)
	}
}

func TestEnsureBadDeb(t *testing.T) {
	cache := t.TempDir()
	deb := filepath.Join(cache, "x.deb")
	if err := os.WriteFile(deb, []byte("not the catalog's bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := fakeBootstrap(t, func(ctx context.Context, tmp string) error { return nil })
	for _, d := range []Deb{{deb, strings.Repeat("0", 64)}, {filepath.Join(cache, "missing.deb"), strings.Repeat("0", 64)}} {
		_, err := Ensure(context.Background(), cache, ChrootSpec{Suite: "trixie", Debs: []Deb{d}}, nil)
		if err == nil || !strings.Contains(err.Error(), filepath.Base(d.Path)) {
			t.Errorf("%s: %v", d.Path, err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("bootstrapped with a bad .deb")
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/x\134y`: `/x\y`, `/t\01`: `/t\01`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestSpecForNoHeaders(t *testing.T) {
	k := &kernels.Kernel{Release: "6.12.107+deb13", Arch: "amd64", Set: vmimages.Set{Release: "6.12.107+deb13", Arch: "amd64",
		Entries: []vmimages.Entry{{Release: "6.12.107+deb13", Arch: "amd64", Kind: vmimages.KindImage, Package: "linux-image-6.12.107+deb13-amd64-unsigned", Version: "6.12.107-1"}}}}
	if _, err := SpecFor(k, nil); !errors.Is(err, ErrNoHeaders) {
		t.Errorf("a kernel without headers packages: %v, want ErrNoHeaders", err)
	}
}

// The spec for the real kernels: the headers' own Depends (read from the
// cached .debs) decide what comes from the suite; an arm64 build takes the
// amd64 linux-kbuild.
func TestSpecForReal(t *testing.T) {
	for _, tc := range []struct {
		release, arch, want string
	}{
		{"6.12.107+deb13", "amd64", "dwarves gcc gcc-14 libc6 libelf-dev libelf1t64 libssl3t64 linux-base make pahole zlib1g"},
		{"7.2.13+deb14", "amd64", "dwarves gcc gcc-16-for-host libc6 libelf-dev libelf1t64 libssl3t64 linux-base make pahole zlib1g"},
	} {
		k := realdata.Headers(t, tc.release, tc.arch)
		spec, err := SpecFor(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		inc := slices.Clone(spec.Include)
		slices.Sort(inc)
		if got := strings.Join(slices.Compact(inc), " "); got != tc.want {
			t.Errorf("%s: include %s, want %s", tc.release, got, tc.want)
		}
		if len(spec.Debs) != 3 || spec.Suite != map[bool]string{true: "trixie", false: "sid"}[strings.HasSuffix(tc.release, "deb13")] {
			t.Errorf("%s: %s", tc.release, spec.Describe())
		}
		arm := *k
		arm.Arch = "arm64"
		if _, err := SpecFor(&arm, nil); err == nil || !strings.Contains(err.Error(), "amd64 linux-kbuild") {
			t.Errorf("%s arm64 without the host's kbuild: %v", tc.release, err)
		}
	}
}
