package kernels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/vmimages"
)

// buildDeb makes a tiny real .deb with dpkg-deb --build holding boot/config-test.
func buildDeb(t *testing.T, dir string) []byte {
	t.Helper()
	return buildDebOf(t, dir, "btfrecon-test", "6.1.2-1", map[string]string{
		"boot/config-6.1.2-test":                "CONFIG_MODULES=y\n",
		"lib/modules/6.1.2-test/kernel/a.ko.xz": "x",
	})
}

// buildDebOf makes a real .deb of package pkg=version holding files.
func buildDebOf(t *testing.T, dir, pkg, version string, files map[string]string) []byte {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	root := filepath.Join(dir, "pkgroot-"+pkg)
	all := map[string]string{"DEBIAN/control": "Package: " + pkg + "\nVersion: " + version + "\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: test\n"}
	for k, v := range files {
		all[k] = v
	}
	for path, body := range all {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, pkg+".deb")
	if b, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, out).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetch(t *testing.T) {
	good := buildDeb(t, t.TempDir())
	sum := sha256.Sum256(good)
	entry := vmimages.Entry{Release: "6.1.2", Arch: "amd64", Kind: vmimages.KindImage, Package: "btfrecon-test",
		Version: "6.1.2-1", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(good)), Line: 7, File: "catalog.tsv"}
	bad := []byte("not the package")

	for _, tc := range []struct {
		name      string
		cachedDeb []byte   // .deb already in debs/ before Fetch
		downloads [][]byte // what each successive download yields
		stale     bool     // an extracted dir without marker exists
		wantCalls int
		wantErr   error
	}{
		{name: "fresh download", downloads: [][]byte{good}, wantCalls: 1},
		{name: "corrupt then good", downloads: [][]byte{bad, good}, wantCalls: 2},
		{name: "always corrupt", downloads: [][]byte{bad, bad, good}, wantCalls: 2, wantErr: ErrChecksum},
		{name: "corrupt cached deb is refetched", cachedDeb: bad, downloads: [][]byte{good}, wantCalls: 1},
		{name: "good cached deb is not refetched", cachedDeb: good, wantCalls: 0},
		{name: "unmarked extraction is redone", cachedDeb: good, stale: true, wantCalls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			calls := 0
			f := &Fetcher{CacheDir: root, Download: func(_ context.Context, e vmimages.Entry, dir string) error {
				if calls >= len(tc.downloads) {
					t.Fatalf("unexpected download %d", calls+1)
				}
				calls++
				return os.WriteFile(filepath.Join(dir, e.DebFile()), tc.downloads[calls-1], 0o644)
			}}
			debPath := filepath.Join(root, "debs", entry.DebFile())
			if tc.cachedDeb != nil {
				os.MkdirAll(filepath.Dir(debPath), 0o755)
				if err := os.WriteFile(debPath, tc.cachedDeb, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dst := ExtractedDir(root, entry)
			if tc.stale {
				os.MkdirAll(filepath.Join(dst, "junk"), 0o755)
			}

			dir, err := f.Fetch(context.Background(), entry)
			if calls != tc.wantCalls {
				t.Errorf("%d downloads, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), debPath) || !strings.Contains(err.Error(), "catalog.tsv:7 says") {
					t.Errorf("error does not name the file and catalog line: %v", err)
				}
				if _, err := os.Stat(debPath); !os.IsNotExist(err) {
					t.Errorf("bad .deb left in the cache: %v", err)
				}
				if _, err := os.Stat(dst); !os.IsNotExist(err) {
					t.Errorf("extracted dir exists after a failed fetch")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dir != dst {
				t.Errorf("dir = %s, want %s", dir, dst)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "boot", "config-6.1.2-test")); err != nil || string(b) != "CONFIG_MODULES=y\n" {
				t.Errorf("extracted config = %q, %v", b, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "junk")); err == nil {
				t.Errorf("stale content survived re-extraction")
			}
			if !Extracted(root, entry) {
				t.Errorf("not marked complete")
			}
			if left, _ := filepath.Glob(filepath.Join(root, "*", ".*-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}

			// The second run must not download, verify or extract: make the
			// .deb unreadable garbage and the downloader fatal.
			os.WriteFile(debPath, bad, 0o644)
			calls = len(tc.downloads)
			if _, err := f.Fetch(context.Background(), entry); err != nil {
				t.Fatalf("second fetch: %v", err)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	in := "#\n# Automatically generated\n#\nCONFIG_MODULES=y\n# CONFIG_KVM is not set\nCONFIG_PAHOLE_VERSION=124\nCONFIG_LOCALVERSION=\"\"\n\nCONFIG_9P_FS=m\n"
	got, err := ParseConfig(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CONFIG_MODULES": "y", "CONFIG_KVM": "n", "CONFIG_PAHOLE_VERSION": "124", "CONFIG_LOCALVERSION": `""`, "CONFIG_9P_FS": "m"}
	if len(got) != len(want) {
		t.Errorf("got %d keys %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := ParseConfig(strings.NewReader("CONFIG_A=y\nnonsense\n")); err == nil || err.Error() != `line 2: not a config line: "nonsense"` {
		t.Errorf("malformed config: err = %v", err)
	}
}
