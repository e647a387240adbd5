//go:build !lean

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The kernels verb offline: listing an empty cache (pinned rows only, then
// a resolved row), help, and every usage error (exit 2) before any look-up.
func TestKernelsVerb(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("BTFRECON_CACHE", cache)
	sha := strings.Repeat("0a", 32)
	resolved := "6.12.111\tamd64\timage\tlinux-image-6.12.111+deb12-amd64-unsigned\t6.12.111-1~deb12u1\t" + sha + "\t106731440\n" +
		"7.2.13+deb14\tarm64\timage\tlinux-binary-unsigned-7.2.13+deb14-arm64\t7.2.13-1\t" + sha + "\t14000000\n" +
		"7.2.13+deb14\tarm64\tmodules\tlinux-modules-7.2.13+deb14-arm64\t7.2.13-1\t" + sha + "\t93323264\n"
	for _, tc := range []struct {
		name     string
		resolved string // resolved.tsv content, "" for none
		args     []string
		code     int
		stdout   []string // substrings expected on stdout
		stderr   string
	}{
		{name: "list, empty cache", args: []string{"kernels"}, code: 0, stdout: []string{
			"RELEASE   ARCH   SUITE     CATALOG  BOOT  HEADERS  VMLINUX BTF  DOWNLOAD\n",
			"6.12.107  amd64  bookworm  pinned   -     -        -            123 MB\n",
			"6.12.117  arm64  bookworm  pinned   -     none     -            93 MB\n",
			"resolved: " + filepath.Join(cache, "catalog", "resolved.tsv")}},
		{name: "list with resolved releases", resolved: resolved, args: []string{"kernels", "list"}, code: 0, stdout: []string{
			"6.12.111      amd64  bookworm  resolved  -     none     -            107 MB\n",
			"7.2.13+deb14  arm64  sid       resolved  -     none     -            107 MB\n"}},
		{name: "help", args: []string{"kernels", "--help"}, code: 0, stderr: "btfrecon kernels fetch 7.2.13+deb14 --arch arm64"},
		{name: "unknown command", args: []string{"kernels", "show"}, code: 2, stderr: `unknown kernels command "show" (want list or fetch)`},
		{name: "fetch without release", args: []string{"kernels", "fetch"}, code: 2, stderr: "fetch takes one RELEASE"},
		{name: "fetch two releases", args: []string{"kernels", "fetch", "6.12.111", "6.12.113"}, code: 2, stderr: "fetch takes one RELEASE"},
		{name: "bad release", args: []string{"kernels", "fetch", "6.12"}, code: 2, stderr: `bad kernel release "6.12": want X.Y.Z or X.Y.Z+debN (deb12 bookworm, deb13 trixie, deb14 sid)`},
		{name: "unknown suite", args: []string{"kernels", "fetch", "6.1.0+deb11"}, code: 2, stderr: "deb11 is not a suite btfrecon knows"},
		{name: "bad arch", args: []string{"kernels", "fetch", "6.12.111", "--arch", "i386"}, code: 2, stderr: `bad --arch "i386"`},
		{name: "list with fetch flags", args: []string{"kernels", "--headers"}, code: 2, stderr: "--arch and --headers are flags of fetch"},
		{name: "corrupt resolved catalog", resolved: "junk\n", args: []string{"kernels"}, code: 2, stderr: "resolved.tsv:1: malformed catalog line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(cache, "catalog", "resolved.tsv")
			os.Remove(p)
			if tc.resolved != "" {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(tc.resolved), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			code := run(tc.args, &env{stdout: &out, stderr: &errb})
			ok := code == tc.code && strings.Contains(errb.String(), tc.stderr)
			for _, s := range tc.stdout {
				ok = ok && strings.Contains(out.String(), s)
			}
			if !ok {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout containing %q, stderr containing %q",
					code, tc.code, out.String(), errb.String(), tc.stdout, tc.stderr)
			}
		})
	}
}
