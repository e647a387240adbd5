package kernels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/vmimages"
)

// fakeArchive answers apt-get/apt-cache as the private configuration would,
// from recorded index snippets: show filters the recorded stanzas by
// name:arch, search greps the recorded search output, update writes list
// files. Stanzas in late appear only after an update.
type fakeArchive struct {
	t      *testing.T
	index  map[string]string // suite -> stanzas
	late   map[string]string // suite -> stanzas visible after an update
	search map[string]string // suite -> apt-cache search output
	fail   string            // an apt subcommand that fails ("update")

	updated map[string]bool
	calls   []string
}

func newFakeArchive(t *testing.T) *fakeArchive {
	return &fakeArchive{t: t, index: map[string]string{}, late: map[string]string{}, search: map[string]string{}, updated: map[string]bool{}}
}

var confSuiteRE = regexp.MustCompile(`/apt/([a-z]+)/apt\.conf$`)

func (a *fakeArchive) run(_ context.Context, dir, name string, args ...string) ([]byte, []byte, error) {
	if len(args) < 3 || args[0] != "-c" {
		a.t.Fatalf("apt call without -c CONF: %s %q", name, args)
	}
	m := confSuiteRE.FindStringSubmatch(args[1])
	if m == nil {
		a.t.Fatalf("config %s is not a private one", args[1])
	}
	suite, rest := m[1], args[2:]
	if rest[0] == "-q" {
		rest = rest[1:]
	}
	a.calls = append(a.calls, suite+" "+name+" "+strings.Join(rest, " "))
	if rest[0] == a.fail {
		return nil, []byte("E: simulated failure"), errors.New("exit status 100")
	}
	switch rest[0] {
	case "update":
		s, _ := vmimages.SuiteByName(suite)
		for _, d := range s.Dists {
			for _, arch := range aptArches {
				p := filepath.Join(filepath.Dir(args[1]), "lists", "deb.debian.org_"+d.Archive+"_dists_"+d.Name+"_main_binary-"+arch+"_Packages.lz4")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					a.t.Fatal(err)
				}
			}
		}
		a.updated[suite] = true
		return []byte("Reading package lists...\n"), nil, nil
	case "show":
		text := a.index[suite]
		if a.updated[suite] {
			text += "\n" + a.late[suite]
		}
		var out bytes.Buffer
		for _, stanza := range strings.Split(text, "\n\n") {
			for _, spec := range rest[2:] {
				name, arch, _ := strings.Cut(spec, ":")
				arch, version, _ := strings.Cut(arch, "=")
				if strings.Contains(stanza, "Package: "+name+"\n") && strings.Contains(stanza, "Architecture: "+arch+"\n") &&
					(version == "" || strings.Contains(stanza, "Version: "+version+"\n")) {
					out.WriteString(strings.TrimSpace(stanza) + "\n\n")
				}
			}
		}
		if out.Len() == 0 {
			return nil, []byte("E: No packages found\n"), errors.New("exit status 100")
		}
		return out.Bytes(), nil, nil
	case "search":
		re := regexp.MustCompile(rest[2])
		var out bytes.Buffer
		for _, l := range strings.Split(a.search[suite], "\n") {
			if n, _, ok := strings.Cut(l, " - "); ok && re.MatchString(n) {
				out.WriteString(l + "\n")
			}
		}
		return out.Bytes(), nil, nil
	}
	a.t.Fatalf("unexpected apt call %s %q", name, args)
	return nil, nil, nil
}

// recordedArchive has the recorded bookworm 6.12.111, trixie 6.12.117 arm64
// and sid 7.2.13 amd64 stanzas and the recorded searches.
func recordedArchive(t *testing.T) *fakeArchive {
	a := newFakeArchive(t)
	a.index["bookworm"] = string(readTestdata(t, "bookworm-6.12.111-amd64.show"))
	a.index["trixie"] = string(readTestdata(t, "trixie-6.12.117-arm64.show"))
	a.index["sid"] = string(readTestdata(t, "sid-7.2.13-amd64.show"))
	for _, s := range []string{"bookworm", "trixie", "sid"} {
		a.search[s] = string(readTestdata(t, s+"-amd64.search"))
	}
	return a
}

// markListsFresh makes suite's private lists present and just updated.
func markListsFresh(t *testing.T, f *Fetcher, root, suite string) {
	t.Helper()
	s, _ := vmimages.SuiteByName(suite)
	a, err := f.apt(root, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range s.Dists {
		for _, arch := range aptArches {
			os.WriteFile(filepath.Join(a.dir, "lists", "x_dists_"+d.Name+"_main_binary-"+arch+"_Packages"), nil, 0o644)
		}
	}
	if err := os.WriteFile(filepath.Join(a.dir, "updated"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name, release, arch string
		fresh               []string // suites whose lists are present and fresh
		want                []string // kind=package=version of the pinned set
		wantCalls           []string
		wantErr             string
		wantIs              error
	}{
		{
			name: "sid: no lists yet, update then look up", release: "7.2.13+deb14", arch: "amd64",
			want: []string{"image=linux-binary-unsigned-7.2.13+deb14-amd64=7.2.13-1", "modules=linux-modules-7.2.13+deb14-amd64=7.2.13-1",
				"linux-base=linux-base-7.2.13+deb14-amd64=7.2.13-1", "headers=linux-headers-7.2.13+deb14-amd64=7.2.13-1",
				"headers-common=linux-headers-7.2.13+deb14-common=7.2.13-1", "kbuild=linux-kbuild-7.2.13+deb14=7.2.13-1"},
			wantCalls: []string{"sid apt-get update",
				"sid apt-cache show --no-all-versions linux-binary-unsigned-7.2.13+deb14-amd64:amd64 linux-modules-7.2.13+deb14-amd64:amd64 linux-base-7.2.13+deb14-amd64:amd64 linux-headers-7.2.13+deb14-amd64:amd64 linux-headers-7.2.13+deb14-common:all linux-kbuild-7.2.13+deb14:amd64"},
		},
		{
			name: "bookworm in the X.Y.Z+deb12 form, fresh lists", release: "6.12.111+deb12", arch: "amd64", fresh: []string{"bookworm"},
			want: []string{"image=linux-image-6.12.111+deb12-amd64-unsigned=6.12.111-1~deb12u1", "headers=linux-headers-6.12.111+deb12-amd64=6.12.111-1~deb12u1",
				"headers-common=linux-headers-6.12.111+deb12-common=6.12.111-1~deb12u1", "kbuild=linux-kbuild-6.12.111+deb12=6.12.111-1~deb12u1"},
			wantCalls: []string{"bookworm apt-cache show --no-all-versions linux-image-6.12.111+deb12-amd64-unsigned:amd64 linux-headers-6.12.111+deb12-amd64:amd64 linux-headers-6.12.111+deb12-common:all linux-kbuild-6.12.111+deb12:amd64"},
		},
		{
			name: "trixie arm64", release: "6.12.117+deb13", arch: "arm64", fresh: []string{"trixie"},
			want: []string{"image=linux-image-6.12.117+deb13-arm64-unsigned=6.12.117-1", "headers=linux-headers-6.12.117+deb13-arm64=6.12.117-1",
				"headers-common=linux-headers-6.12.117+deb13-common=6.12.117-1", "kbuild=linux-kbuild-6.12.117+deb13=6.12.117-1"},
		},
		{
			name: "missing on fresh lists: no update, the nearest releases", release: "6.12.112", arch: "amd64", fresh: []string{"bookworm"},
			wantIs:  ErrNotInArchive,
			wantErr: "6.12.112 amd64: not in the Debian archive: Debian bookworm has no linux-image-6.12.112+deb12-amd64-unsigned; nearest bookworm releases it has: 6.12.107, 6.12.111, 6.12.113, 6.12.115, 6.12.117 (of 5, 6.12.107 ... 6.12.117)",
			wantCalls: []string{"bookworm apt-cache show --no-all-versions linux-image-6.12.112+deb12-amd64-unsigned:amd64 linux-headers-6.12.112+deb12-amd64:amd64 linux-headers-6.12.112+deb12-common:all linux-kbuild-6.12.112+deb12:amd64",
				`bookworm apt-cache search --names-only ^linux-image-[0-9]+\.[0-9]+\.[0-9]+\+deb12(\.[0-9]+)?-amd64-unsigned$`},
		},
		{
			name: "trixie: the nearest include an ABI revision", release: "6.12.114+deb13", arch: "amd64", fresh: []string{"trixie"},
			wantIs:  ErrNotInArchive,
			wantErr: "nearest trixie releases it has: 6.12.107+deb13, 6.12.111+deb13, 6.12.113+deb13, 6.12.115+deb13, 6.12.115+deb13.1, 6.12.116+deb13 (of 8,",
		},
		{
			name: "sid has one release", release: "7.2.14+deb14", arch: "amd64", fresh: []string{"sid"},
			wantIs: ErrNotInArchive, wantErr: "Debian sid has no linux-binary-unsigned-7.2.14+deb14-amd64; nearest sid releases it has: 7.2.13+deb14 (its only one)",
		},
		{
			name: "no arm64 images recorded", release: "7.2.14+deb14", arch: "arm64", fresh: []string{"sid"},
			wantIs: ErrNotInArchive, wantErr: "Debian sid has no arm64 kernel images",
		},
		{name: "bad name", release: "6.12", arch: "amd64", wantIs: vmimages.ErrRelease, wantErr: `bad kernel release "6.12"`},
		{name: "bad arch", release: "6.12.111", arch: "i386", wantErr: `6.12.111: bad arch "i386"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			arch := recordedArchive(t)
			var progress bytes.Buffer
			f := &Fetcher{CacheDir: root, Run: arch.run, Progress: &progress}
			for _, s := range tc.fresh {
				markListsFresh(t, f, root, s)
			}
			set, err := f.Resolve(context.Background(), tc.release, tc.arch)
			if tc.wantCalls != nil && strings.Join(arch.calls, "\n") != strings.Join(tc.wantCalls, "\n") {
				t.Errorf("apt calls:\n%s\nwant\n%s", strings.Join(arch.calls, "\n"), strings.Join(tc.wantCalls, "\n"))
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.wantIs != nil && !errors.Is(err, tc.wantIs)) {
					t.Fatalf("err = %v\nwant %v containing %q", err, tc.wantIs, tc.wantErr)
				}
				if _, err := os.Stat(ResolvedPath(root)); err == nil {
					t.Errorf("a failed resolution wrote %s", ResolvedPath(root))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range set.Entries {
				got = append(got, fmt.Sprintf("%s=%s=%s", e.Kind, e.Package, e.Version))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("pinned:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if lines := strings.Count(strings.TrimSpace(progress.String()), "\n") + 1; !strings.Contains(progress.String(), "resolved "+set.Release+" "+tc.arch+" from Debian ") || lines > 3 {
				t.Errorf("progress:\n%s", progress.String())
			}
			// Pinned: the cache alone now answers, with the same set.
			again, err := LookupIn(root, tc.release, tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Entries) != len(set.Entries) || again.Entries[0].SHA256 != set.Entries[0].SHA256 || again.Entries[0].File != ResolvedPath(root) {
				t.Errorf("LookupIn after Resolve = %+v", again)
			}
		})
	}
}

// A look-up that misses on stale lists updates them once and finds what
// the archive gained; lists updated moments ago are not updated again.
func TestResolveUpdatesOnMiss(t *testing.T) {
	root := t.TempDir()
	arch := newFakeArchive(t)
	arch.late["sid"] = string(readTestdata(t, "sid-7.2.13-amd64.show"))
	f := &Fetcher{CacheDir: root, Run: arch.run}
	markListsFresh(t, f, root, "sid")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, "apt", "sid", "updated"), old, old); err != nil {
		t.Fatal(err)
	}
	set, err := f.Resolve(context.Background(), "7.2.13+deb14", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 6 {
		t.Errorf("%d entries, want 6", len(set.Entries))
	}
	if got := strings.Count(strings.Join(arch.calls, "\n"), "apt-get update"); got != 1 {
		t.Errorf("%d updates, want 1:\n%s", got, strings.Join(arch.calls, "\n"))
	}
	// Missing again in the same process: no second update.
	arch.calls = nil
	if _, err := f.Resolve(context.Background(), "7.2.14+deb14", "amd64"); !errors.Is(err, ErrNotInArchive) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(strings.Join(arch.calls, "\n"), "update") {
		t.Errorf("updated twice: %q", arch.calls)
	}
}

// Resolving releases one after another keeps every release's lines;
// re-resolving one replaces its own; pinned releases never reach apt.
func TestResolvedCatalog(t *testing.T) {
	root := t.TempDir()
	arch := recordedArchive(t)
	f := &Fetcher{CacheDir: root, Run: arch.run}
	for _, s := range []string{"bookworm", "trixie", "sid"} {
		markListsFresh(t, f, root, s)
	}
	ctx := context.Background()
	for _, r := range []struct{ release, arch string }{{"6.12.111", "amd64"}, {"7.2.13+deb14", "amd64"}, {"6.12.117+deb13", "arm64"}, {"6.12.111", "amd64"}} {
		if _, err := f.Lookup(ctx, r.release, r.arch); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := LoadResolved(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(cat.Kernels(), " "), "6.12.111/amd64 6.12.117+deb13/arm64 7.2.13+deb14/amd64"; got != want {
		t.Errorf("resolved kernels %s, want %s", got, want)
	}
	if len(cat.Entries) != 14 {
		t.Errorf("%d resolved lines, want 14", len(cat.Entries))
	}
	// Lookup of an already resolved release asks apt nothing.
	arch.calls = nil
	for _, r := range []struct{ release, arch string }{{"6.12.111", "amd64"}, {"6.12.117", "amd64"}, {"6.12.107+deb12", "arm64"}} {
		if _, err := f.Lookup(ctx, r.release, r.arch); err != nil {
			t.Fatal(err)
		}
	}
	if len(arch.calls) != 0 {
		t.Errorf("apt calls for pinned or resolved releases: %q", arch.calls)
	}
	// Unknown to both catalogs, without the network: ErrUnknown saying how to resolve it.
	_, err = LookupIn(root, "6.12.113", "amd64")
	if !errors.Is(err, vmimages.ErrUnknown) || !strings.Contains(err.Error(), "btfrecon kernels fetch 6.12.113 --arch amd64") || !strings.Contains(err.Error(), "kernel not in catalog") {
		t.Errorf("LookupIn(unresolved) = %v", err)
	}
	// A corrupt resolved catalog is reported with its name, and does not
	// hide the pinned set.
	if err := os.WriteFile(ResolvedPath(root), []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LookupIn(root, "6.12.111", "amd64"); err == nil || !strings.Contains(err.Error(), ResolvedPath(root)+":1: malformed catalog line") {
		t.Errorf("corrupt resolved.tsv: %v", err)
	}
	if _, err := LookupIn(root, "6.12.117", "amd64"); err != nil {
		t.Errorf("pinned lookup with a corrupt resolved.tsv: %v", err)
	}
}

func TestMatchIndex(t *testing.T) {
	r, _ := vmimages.ParseRelease("7.2.13+deb14")
	wants := r.Packages("amd64")
	idx, err := ParseIndex("sid", readTestdata(t, "sid-7.2.13-amd64.show"))
	if err != nil {
		t.Fatal(err)
	}
	found, missing := MatchIndex(wants, idx)
	if len(found) != 6 || len(missing) != 0 {
		t.Fatalf("found %d missing %v", len(found), missing)
	}
	// Without the kbuild stanza the headers set is incomplete: not pinned.
	found, missing = MatchIndex(wants, idx[:5])
	if len(found) != 3 || len(missing) != 0 {
		t.Errorf("partial headers: found %d missing %v", len(found), missing)
	}
	// Without linux-modules the kernel is missing a boot package.
	found, missing = MatchIndex(wants, append(append([]IndexEntry(nil), idx[:1]...), idx[2:]...))
	if len(missing) != 1 || missing[0].Kind != vmimages.KindModules {
		t.Errorf("no modules: found %d missing %v", len(found), missing)
	}
	// The arm64 stanza of a name does not answer for amd64.
	arm := append([]IndexEntry(nil), idx...)
	arm[0].Architecture = "arm64"
	if _, missing := MatchIndex(wants, arm); len(missing) != 1 || missing[0].Kind != vmimages.KindImage {
		t.Errorf("arch mismatch: missing %v", missing)
	}
}

func TestNearest(t *testing.T) {
	bookworm, _ := vmimages.SuiteByName("bookworm")
	trixie, _ := vmimages.SuiteByName("trixie")
	have := ReleasesOfImages(bookworm, "amd64", ParseSearch(readTestdata(t, "bookworm-amd64.search")))
	haveT := ReleasesOfImages(trixie, "amd64", ParseSearch(readTestdata(t, "trixie-amd64.search")))
	for _, tc := range []struct {
		want string
		have []vmimages.Release
		n    int
		out  string
	}{
		{"6.12.112", have, 3, "6.12.107 6.12.111 6.12.113 6.12.115 6.12.117"},
		{"6.12.112", have, 1, "6.12.111 6.12.113"},
		{"6.12.1", have, 2, "6.12.107 6.12.111"},
		{"6.12.200", have, 2, "6.12.115 6.12.117"},
		{"6.12.113", have, 1, "6.12.111 6.12.115"},
		{"6.12.115+deb13", haveT, 1, "6.12.113+deb13 6.12.115+deb13.1"},
		{"6.12.117+deb13", haveT, 2, "6.12.115+deb13.1 6.12.116+deb13 6.12.118+deb13"},
		{"6.12.112", nil, 3, ""},
	} {
		r, err := vmimages.ParseRelease(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range Nearest(r, tc.have, tc.n) {
			got = append(got, x.String())
		}
		if strings.Join(got, " ") != tc.out {
			t.Errorf("Nearest(%s, n=%d) = %s, want %s", tc.want, tc.n, strings.Join(got, " "), tc.out)
		}
	}
	if len(haveT) != 8 {
		t.Errorf("trixie amd64: %d releases, want 8", len(haveT))
	}
}

// The private configuration: the suite's distributions for amd64 and
// arm64, nothing of the machine's sources, lists, status or hooks.
func TestPrivateAptConfig(t *testing.T) {
	root := t.TempDir()
	f := &Fetcher{CacheDir: root}
	trixie, _ := vmimages.SuiteByName("trixie")
	a, err := f.apt(root, trixie)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "apt", "trixie")
	src, err := os.ReadFile(filepath.Join(dir, "sources.list"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64,arm64 target=Packages] http://deb.debian.org/debian trixie main\n",
		"http://deb.debian.org/debian trixie-updates main\n",
		"http://deb.debian.org/debian-security trixie-security main\n",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("sources.list lacks %q:\n%s", want, src)
		}
	}
	conf, err := os.ReadFile(a.conf())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Dir::Etc::sourcelist "` + dir + `/sources.list";`, `Dir::Etc::sourceparts "/dev/null";`,
		`Dir::State::Lists "` + dir + `/lists";`, `Dir::State::status "` + dir + `/status";`, `Dir::Cache "` + dir + `/cache";`,
		`Dir::Etc::preferencesparts "/dev/null";`, "#clear APT::Architectures;\nAPT::Architectures { \"amd64\"; \"arm64\"; };",
		"#clear APT::Update::Post-Invoke-Success;", "#clear DPkg::Post-Invoke;",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("apt.conf lacks %q:\n%s", want, conf)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err != nil || len(b) != 0 {
		t.Errorf("status = %q, %v; want an empty file", b, err)
	}
	if a.listsPresent() || !a.stale() {
		t.Error("a new configuration has lists, or is not stale")
	}
	// A failed update is an ErrApt naming the suite and the configuration.
	fake := newFakeArchive(t)
	fake.fail = "update"
	f2 := &Fetcher{CacheDir: root, Run: fake.run}
	_, err = f2.Resolve(context.Background(), "6.12.117+deb13", "amd64")
	if !errors.Is(err, ErrApt) || !strings.Contains(err.Error(), "apt-get update (Debian trixie, "+a.conf()+")") || !strings.Contains(err.Error(), "E: simulated failure") {
		t.Errorf("failed update: %v", err)
	}
}

// The machine's apt configuration can be consulted by hand with the same
// file: `apt-cache -c $CACHE/apt/sid/apt.conf policy PKG`. With real lists
// in the cache (after a fetch), a pinned package is known at its exact
// version and a made-up version is not. Skipped without lists: go test
// never runs apt-get update.
func TestPrivateAptKnows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs apt-cache")
	}
	f := &Fetcher{}
	root, err := f.cacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bookworm, _ := vmimages.SuiteByName("bookworm")
	a, err := f.apt(root, bookworm)
	if err != nil {
		t.Fatal(err)
	}
	if !a.listsPresent() {
		t.Skip("no private bookworm lists in the cache (btfrecon kernels fetch makes them)")
	}
	set, err := vmimages.Lookup("6.12.117", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	e := set.Image()
	idx, err := a.show(context.Background(), []string{e.AptSpec()})
	if err != nil {
		t.Fatal(err)
	}
	if _, unknown := firstUnknown([]vmimages.Entry{e}, idx); unknown {
		t.Skipf("the private lists do not know %s (archive moved on?)", e.AptSpec())
	}
	if idx[0].SHA256 != e.SHA256 || idx[0].Size != e.Size {
		t.Errorf("archive index %+v disagrees with %s", idx[0], e.Where())
	}
	e.Version = "6.12.117-99"
	idx, err = a.show(context.Background(), []string{e.AptSpec()})
	if err != nil {
		t.Fatal(err)
	}
	if _, unknown := firstUnknown([]vmimages.Entry{e}, idx); !unknown {
		t.Errorf("%s is known", e.AptSpec())
	}
}
