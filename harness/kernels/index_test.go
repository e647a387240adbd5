package kernels

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The recorded apt-cache show answers parse into exactly their stanzas.
func TestParseIndexRecorded(t *testing.T) {
	for _, tc := range []struct {
		file  string
		count int
		first IndexEntry
	}{
		{"bookworm-6.12.111-amd64.show", 4, IndexEntry{Package: "linux-image-6.12.111+deb12-amd64-unsigned", Version: "6.12.111-1~deb12u1", Architecture: "amd64",
			Filename: "pool/updates/main/l/linux-6.12/linux-image-6.12.111+deb12-amd64-unsigned_6.12.111-1~deb12u1_amd64.deb",
			SHA256:   "0597c5ec2ef142ee7e1922ef7ebf0a8002ae5081621d1a077b3f1eaf3c35cdf9", Size: 106731440, Line: 1}},
		{"trixie-6.12.117-arm64.show", 4, IndexEntry{Package: "linux-image-6.12.117+deb13-arm64-unsigned", Version: "6.12.117-1", Architecture: "arm64",
			Filename: "pool/main/l/linux/linux-image-6.12.117+deb13-arm64-unsigned_6.12.117-1_arm64.deb",
			SHA256:   "cc5be026b4113d670d4355f719b7a0103297a36e59717e45a89d0fbd985af041", Size: 93439480, Line: 1}},
		{"sid-7.2.13-amd64.show", 6, IndexEntry{Package: "linux-binary-unsigned-7.2.13+deb14-amd64", Version: "7.2.13-1", Architecture: "amd64",
			Filename: "pool/main/l/linux/linux-binary-unsigned-7.2.13+deb14-amd64_7.2.13-1_amd64.deb",
			SHA256:   "9990f14b7bea8932d3377894b4c81811d1414eea792720881a067578f913f2b4", Size: 14250700, Line: 1}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseIndex(tc.file, readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("%d stanzas, want %d", len(got), tc.count)
			}
			if got[0] != tc.first {
				t.Errorf("first stanza\n%+v\nwant\n%+v", got[0], tc.first)
			}
			for _, e := range got[1:] {
				if e.Line <= 1 {
					t.Errorf("%s: line %d", e.Package, e.Line)
				}
			}
		})
	}
}

func TestParseIndex(t *testing.T) {
	sha := strings.Repeat("0a", 32)
	stanza := "Package: p\nVersion: 1.2-3\nArchitecture: all\nSHA256: " + sha + "\nSize: 10\n"
	for _, tc := range []struct {
		name, in string
		want     int // stanzas
		wantErr  string
	}{
		{"empty", "", 0, ""},
		{"blank lines only", "\n \n\t\n", 0, ""},
		{"one", stanza, 1, ""},
		{"two, extra blank lines, CRLF", strings.ReplaceAll(stanza, "\n", "\r\n") + "\r\n\r\n\n" + stanza + "\n", 2, ""},
		{"case-insensitive names, continuation, comment", "# c\npackage: p\nDescription: x\n more\n .\nVERSION: 1\nArchitecture: amd64\nsha256: " + sha + "\nSize: 1\n", 1, ""},
		{"continuation first", " x\n" + stanza, 0, "t:1: malformed archive index: continuation line outside a field"},
		{"not a field", stanza + "\nPackage p\n", 0, `t:7: malformed archive index: not a "Field: value" line: "Package p"`},
		{"field name with a space", "Pack age: p\n", 0, `not a "Field: value" line`},
		{"repeated field", "Package: p\npackage: q\n", 0, "t:2: malformed archive index: field package repeated in one stanza"},
		{"no package", strings.Replace(stanza, "Package: p\n", "", 1), 0, `t:1: malformed archive index: stanza of "": bad or missing Package ""`},
		{"bad sha256", strings.Replace(stanza, sha, "abc", 1), 0, `p: bad or missing SHA256 "abc"`},
		{"no size", strings.Replace(stanza, "Size: 10\n", "", 1), 0, `p: bad or missing Size ""`},
		{"zero size", strings.Replace(stanza, "Size: 10", "Size: 0", 1), 0, `p: bad or missing Size "0"`},
		{"second stanza bad, named by its line", stanza + "\nPackage: q\n", 0, "t:7: malformed archive index: stanza of \"q\": bad or missing Version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIndex("t", []byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrIndex) {
					t.Fatalf("err = %v, want ErrIndex containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("%d stanzas, want %d: %+v", len(got), tc.want, got)
			}
		})
	}
}

func TestParseSearch(t *testing.T) {
	got := ParseSearch(readTestdata(t, "trixie-amd64.search"))
	if len(got) != 8 || got[0] != "linux-image-6.12.107+deb13-amd64-unsigned" || got[5] != "linux-image-6.12.115+deb13.1-amd64-unsigned" {
		t.Errorf("ParseSearch = %q", got)
	}
	if got := ParseSearch([]byte("\nno separator\nfoo - bar - baz\n - empty\n")); strings.Join(got, ",") != "foo" {
		t.Errorf("ParseSearch(odd lines) = %q", got)
	}
}
