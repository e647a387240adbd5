package vmimages

import (
	"errors"
	"strings"
	"testing"
)

const goodLine = "6.12.117\tamd64\timage\tlinux-image-6.12.117+deb12-amd64-unsigned\t6.12.117-1~deb12u1\t5de3e329c887173debec07ff1325c975cf4f286d364929d17fecb1e1325c5c46\t107177456"

func TestParse(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, in string
		want     []Entry // nil with wantErr
		wantErr  string
	}{
		{
			name: "good line, comments and blanks",
			in:   "# header\n\n" + goodLine + "\n   \n",
			want: []Entry{{Release: "6.12.117", Arch: "amd64", Kind: KindImage, Package: "linux-image-6.12.117+deb12-amd64-unsigned",
				Version: "6.12.117-1~deb12u1", SHA256: "5de3e329c887173debec07ff1325c975cf4f286d364929d17fecb1e1325c5c46", Size: 107177456, Line: 3, File: "t.tsv"}},
		},
		{
			name: "spaces instead of tabs, epoch",
			in:   "6.1.2 arm64 headers-common linux-headers-6.1.2+deb12-common 1:6.1.2-3 " + sha + " 5",
			want: []Entry{{Release: "6.1.2", Arch: "arm64", Kind: KindHeadersCommon, Package: "linux-headers-6.1.2+deb12-common",
				Version: "1:6.1.2-3", SHA256: sha, Size: 5, Line: 1, File: "t.tsv"}},
		},
		{name: "too few fields", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 " + sha,
			wantErr: "t.tsv:1: malformed catalog line: want 7 fields (release arch kind package version sha256 size), got 6"},
		{name: "bad release", in: "6.1 amd64 image linux-image-6.1+deb12 6.1-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad release "6.1"`},
		{name: "bad arch", in: "6.1.2 i386 image linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad arch "i386" (want amd64 or arm64)`},
		{name: "bad kind", in: "6.1.2 amd64 source linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad kind "source" (want image, modules, linux-base, headers, headers-common or kbuild)`},
		{name: "bad package", in: "6.1.2 amd64 image Linux_Image-6.1.2+deb12 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad package name "Linux_Image-6.1.2+deb12"`},
		{name: "bad version", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 v6.1.2 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad version "v6.1.2"`},
		{name: "upper-case sha", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 " + strings.ToUpper(sha) + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad sha256 "` + strings.ToUpper(sha) + `" (want 64 lower-case hex digits)`},
		{name: "short sha", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 abcd 1",
			wantErr: `t.tsv:1: malformed catalog line: bad sha256 "abcd" (want 64 lower-case hex digits)`},
		{name: "version of another release", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.3-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: version "6.1.3-1" is not of release 6.1.2`},
		{name: "package of another release", in: "6.1.2 amd64 image linux-image-6.1.3+deb12 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: package "linux-image-6.1.3+deb12" does not name release 6.1.2 (ABI 6.1.2+deb12)`},
		{name: "bad size", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 0",
			wantErr: `t.tsv:1: malformed catalog line: bad size "0"`},
		{name: "duplicate kind", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 1\n#\n6.1.2 amd64 image linux-image-6.1.2+deb12-x 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:3: malformed catalog line: 6.1.2 amd64 image already listed on line 1`},
		{
			name: "a trixie release, canonical name from the +deb12 form",
			in: "6.12.117+deb13 arm64 image linux-image-6.12.117+deb13-arm64-unsigned 6.12.117-1 " + sha + " 9\n" +
				"6.12.117+deb12 amd64 kbuild linux-kbuild-6.12.117+deb12 6.12.117-1~deb12u1 " + sha + " 8",
			want: []Entry{
				{Release: "6.12.117+deb13", Arch: "arm64", Kind: KindImage, Package: "linux-image-6.12.117+deb13-arm64-unsigned", Version: "6.12.117-1", SHA256: sha, Size: 9, Line: 1, File: "t.tsv"},
				{Release: "6.12.117", Arch: "amd64", Kind: KindKbuild, Package: "linux-kbuild-6.12.117+deb12", Version: "6.12.117-1~deb12u1", SHA256: sha, Size: 8, Line: 2, File: "t.tsv"},
			},
		},
		{
			name: "sid's split kinds; headers-common shared by amd64 and arm64",
			in: "7.2.13+deb14 amd64 modules linux-modules-7.2.13+deb14-amd64 7.2.13-1 " + sha + " 3\n" +
				"7.2.13+deb14 amd64 linux-base linux-base-7.2.13+deb14-amd64 7.2.13-1 " + sha + " 4\n" +
				"7.2.13+deb14 amd64 headers-common linux-headers-7.2.13+deb14-common 7.2.13-1 " + sha + " 5\n" +
				"7.2.13+deb14 arm64 headers-common linux-headers-7.2.13+deb14-common 7.2.13-1 " + sha + " 5\n",
			want: []Entry{
				{Release: "7.2.13+deb14", Arch: "amd64", Kind: KindModules, Package: "linux-modules-7.2.13+deb14-amd64", Version: "7.2.13-1", SHA256: sha, Size: 3, Line: 1, File: "t.tsv"},
				{Release: "7.2.13+deb14", Arch: "amd64", Kind: KindLinuxBase, Package: "linux-base-7.2.13+deb14-amd64", Version: "7.2.13-1", SHA256: sha, Size: 4, Line: 2, File: "t.tsv"},
				{Release: "7.2.13+deb14", Arch: "amd64", Kind: KindHeadersCommon, Package: "linux-headers-7.2.13+deb14-common", Version: "7.2.13-1", SHA256: sha, Size: 5, Line: 3, File: "t.tsv"},
				{Release: "7.2.13+deb14", Arch: "arm64", Kind: KindHeadersCommon, Package: "linux-headers-7.2.13+deb14-common", Version: "7.2.13-1", SHA256: sha, Size: 5, Line: 4, File: "t.tsv"},
			},
		},
		{name: "shared headers-common lines must agree", in: "7.2.13+deb14 amd64 headers-common linux-headers-7.2.13+deb14-common 7.2.13-1 " + sha + " 5\n" +
			"7.2.13+deb14 arm64 headers-common linux-headers-7.2.13+deb14-common 7.2.13-1 " + sha + " 6\n",
			wantErr: `t.tsv:2: malformed catalog line: package linux-headers-7.2.13+deb14-common already listed on line 1`},
		{name: "package of another ABI revision", in: "6.12.115+deb13 amd64 image linux-image-6.12.115+deb13.1-amd64-unsigned 6.12.115-2 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: package "linux-image-6.12.115+deb13.1-amd64-unsigned" does not name release 6.12.115+deb13 (ABI 6.12.115+deb13)`},
		{name: "unknown suite", in: "6.1.2+deb11 amd64 image linux-image-6.1.2+deb11-amd64 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:1: malformed catalog line: bad release "6.1.2+deb11"`},
		{name: "duplicate package", in: "6.1.2 amd64 image linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 1\n6.1.2 amd64 headers linux-image-6.1.2+deb12 6.1.2-1 " + sha + " 1",
			wantErr: `t.tsv:2: malformed catalog line: package linux-image-6.1.2+deb12 already listed on line 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("t.tsv", strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
				}
				if !errors.Is(err, ErrSyntax) {
					t.Errorf("err does not wrap ErrSyntax: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d = %+v\nwant %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestEntryNames(t *testing.T) {
	for _, tc := range []struct {
		e                    Entry
		spec, deb, key, arch string
	}{
		{Entry{Arch: "arm64", Kind: KindImage, Package: "linux-image-6.12.117+deb12-arm64-unsigned", Version: "6.12.117-1~deb12u1"},
			"linux-image-6.12.117+deb12-arm64-unsigned:arm64=6.12.117-1~deb12u1",
			"linux-image-6.12.117+deb12-arm64-unsigned_6.12.117-1~deb12u1_arm64.deb",
			"linux-image-6.12.117+deb12-arm64-unsigned_6.12.117-1~deb12u1", "arm64"},
		{Entry{Arch: "amd64", Kind: KindHeadersCommon, Package: "linux-headers-6.12.117+deb12-common", Version: "1:6.12.117-1"},
			"linux-headers-6.12.117+deb12-common:all=1:6.12.117-1",
			"linux-headers-6.12.117+deb12-common_1%3a6.12.117-1_all.deb",
			"linux-headers-6.12.117+deb12-common_1%3a6.12.117-1", "all"},
		{Entry{Arch: "arm64", Kind: KindKbuild, Package: "linux-kbuild-7.2.13+deb14", Version: "7.2.13-1"},
			"linux-kbuild-7.2.13+deb14:arm64=7.2.13-1",
			"linux-kbuild-7.2.13+deb14_7.2.13-1_arm64.deb",
			"linux-kbuild-7.2.13+deb14_7.2.13-1_arm64", "arm64"},
		{Entry{Arch: "amd64", Kind: KindKbuild, Package: "linux-kbuild-7.2.13+deb14", Version: "7.2.13-1"},
			"linux-kbuild-7.2.13+deb14:amd64=7.2.13-1",
			"linux-kbuild-7.2.13+deb14_7.2.13-1_amd64.deb",
			"linux-kbuild-7.2.13+deb14_7.2.13-1", "amd64"},
		{Entry{Arch: "arm64", Kind: KindHeadersCommon, Package: "linux-headers-7.2.13+deb14-common", Version: "7.2.13-1"},
			"linux-headers-7.2.13+deb14-common:all=7.2.13-1",
			"linux-headers-7.2.13+deb14-common_7.2.13-1_all.deb",
			"linux-headers-7.2.13+deb14-common_7.2.13-1", "all"},
	} {
		if got := tc.e.AptSpec(); got != tc.spec {
			t.Errorf("AptSpec = %q, want %q", got, tc.spec)
		}
		if got := tc.e.DebFile(); got != tc.deb {
			t.Errorf("DebFile = %q, want %q", got, tc.deb)
		}
		if got := tc.e.Key(); got != tc.key {
			t.Errorf("Key = %q, want %q", got, tc.key)
		}
		if got := tc.e.DebArch(); got != tc.arch {
			t.Errorf("DebArch = %q, want %q", got, tc.arch)
		}
	}
}

// The embedded catalog: what the rest of the project relies on being there.
func TestCatalog(t *testing.T) {
	if got, want := strings.Join(Kernels(), " "), "6.12.107/amd64 6.12.107/arm64 6.12.117/amd64 6.12.117/arm64"; got != want {
		t.Errorf("Kernels() = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		release, arch string
		headers       int
	}{
		{"6.12.107", "amd64", 3}, {"6.12.117", "amd64", 3}, {"6.12.107", "arm64", 1}, {"6.12.117", "arm64", 0},
	} {
		s, err := Lookup(tc.release, tc.arch)
		if err != nil {
			t.Fatal(err)
		}
		img := s.Image()
		if want := "linux-image-" + tc.release + "+deb12-" + tc.arch + "-unsigned"; img.Package != want {
			t.Errorf("%s %s image = %s, want %s", tc.release, tc.arch, img.Package, want)
		}
		if got := len(s.Headers()); got != tc.headers {
			t.Errorf("%s %s: %d headers packages, want %d", tc.release, tc.arch, got, tc.headers)
		}
	}
	_, err := Lookup("6.12.1", "amd64")
	if !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(6.12.1) err = %v, want ErrUnknown", err)
	}
}
