package vmimages

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	for _, tc := range []struct {
		in              string
		name, abi, want string // want: the suite; "" with wantErr
		wantErr         string
	}{
		{in: "6.12.117", name: "6.12.117", abi: "6.12.117+deb12", want: "bookworm"},
		{in: "6.12.117+deb12", name: "6.12.117", abi: "6.12.117+deb12", want: "bookworm"},
		{in: "6.12.117+deb13", name: "6.12.117+deb13", abi: "6.12.117+deb13", want: "trixie"},
		{in: "6.12.115+deb13.1", name: "6.12.115+deb13.1", abi: "6.12.115+deb13.1", want: "trixie"},
		{in: "6.1.0+deb12.3", name: "6.1.0+deb12.3", abi: "6.1.0+deb12.3", want: "bookworm"},
		{in: "7.2.13+deb14", name: "7.2.13+deb14", abi: "7.2.13+deb14", want: "sid"},
		{in: "10.0.0+deb14", name: "10.0.0+deb14", abi: "10.0.0+deb14", want: "sid"},
		{in: "6.12", wantErr: `bad kernel release "6.12": want X.Y.Z or X.Y.Z+debN (deb12 bookworm, deb13 trixie, deb14 sid)`},
		{in: "6.12.117+deb11", wantErr: `bad kernel release "6.12.117+deb11": deb11 is not a suite btfrecon knows (deb12 bookworm, deb13 trixie, deb14 sid)`},
		{in: "6.12.117+deb15", wantErr: `deb15 is not a suite btfrecon knows`},
		{in: "6.12.117+deb013", wantErr: `want X.Y.Z`},
		{in: "6.12.117+deb13.0", wantErr: `want X.Y.Z`},
		{in: "6.12.117+deb13+1", wantErr: `want X.Y.Z`},
		{in: "6.12.117-1~deb12u1", wantErr: `want X.Y.Z`},
		{in: "06.12.117", wantErr: `want X.Y.Z`},
		{in: "6.12.117 ", wantErr: `want X.Y.Z`},
		{in: "6.12.117+deb13-amd64", wantErr: `want X.Y.Z`},
		{in: "99999.0.0", wantErr: `want X.Y.Z`},
		{in: "", wantErr: `want X.Y.Z`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRelease(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrRelease) {
					t.Fatalf("err = %v, want ErrRelease containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tc.name || r.ABI() != tc.abi || r.Suite().Name != tc.want {
				t.Errorf("got name %s abi %s suite %s, want %s %s %s", r, r.ABI(), r.Suite().Name, tc.name, tc.abi, tc.want)
			}
			if c, err := Canonical(tc.in); err != nil || c != tc.name {
				t.Errorf("Canonical = %q, %v", c, err)
			}
		})
	}
}

func TestReleaseCompare(t *testing.T) {
	order := []string{"6.1.0", "6.12.9", "6.12.10", "6.12.117", "6.12.107+deb13", "6.12.115+deb13", "6.12.115+deb13.1", "6.12.116+deb13", "7.2.13+deb14"}
	for i := range order {
		for j := range order {
			a, _ := ParseRelease(order[i])
			b, _ := ParseRelease(order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s vs %s: %d, want %d", a, b, got, want)
			}
		}
	}
}

// The package names each suite uses (the archive's own, checked by
// resolving them on 2026-12-01).
func TestPackages(t *testing.T) {
	for _, tc := range []struct {
		release, arch string
		want          []string // kind=package:debarch, * for optional
	}{
		{"6.12.111", "amd64", []string{
			"image=linux-image-6.12.111+deb12-amd64-unsigned:amd64",
			"headers=linux-headers-6.12.111+deb12-amd64:amd64*",
			"headers-common=linux-headers-6.12.111+deb12-common:all*",
			"kbuild=linux-kbuild-6.12.111+deb12:amd64*"}},
		{"6.12.115+deb13.1", "arm64", []string{
			"image=linux-image-6.12.115+deb13.1-arm64-unsigned:arm64",
			"headers=linux-headers-6.12.115+deb13.1-arm64:arm64*",
			"headers-common=linux-headers-6.12.115+deb13.1-common:all*",
			"kbuild=linux-kbuild-6.12.115+deb13.1:arm64*"}},
		{"7.2.13+deb14", "amd64", []string{
			"image=linux-binary-unsigned-7.2.13+deb14-amd64:amd64",
			"modules=linux-modules-7.2.13+deb14-amd64:amd64",
			"linux-base=linux-base-7.2.13+deb14-amd64:amd64",
			"headers=linux-headers-7.2.13+deb14-amd64:amd64*",
			"headers-common=linux-headers-7.2.13+deb14-common:all*",
			"kbuild=linux-kbuild-7.2.13+deb14:amd64*"}},
	} {
		r, err := ParseRelease(tc.release)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range r.Packages(tc.arch) {
			s := string(w.Kind) + "=" + w.Spec()
			if w.Optional {
				s += "*"
			}
			got = append(got, s)
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s %s:\n%s\nwant\n%s", tc.release, tc.arch, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

func TestReleaseOfImage(t *testing.T) {
	bookworm, _ := SuiteByName("bookworm")
	trixie, _ := SuiteByName("trixie")
	sid, _ := SuiteByName("sid")
	for _, tc := range []struct {
		s         Suite
		pkg, arch string
		want      string // "" for no
	}{
		{bookworm, "linux-image-6.12.113+deb12-amd64-unsigned", "amd64", "6.12.113"},
		{bookworm, "linux-image-6.12.113+deb12-amd64-unsigned", "arm64", ""},
		{bookworm, "linux-image-6.12.113+deb13-amd64-unsigned", "amd64", ""},
		{bookworm, "linux-image-6.12.113+deb12-cloud-amd64-unsigned", "amd64", ""},
		{bookworm, "linux-image-6.1.0-44-amd64-unsigned", "amd64", ""},
		{trixie, "linux-image-6.12.115+deb13.1-arm64-unsigned", "arm64", "6.12.115+deb13.1"},
		{trixie, "linux-image-6.12.115+deb13.1-rt-arm64-unsigned", "arm64", ""},
		{sid, "linux-binary-unsigned-7.2.13+deb14-amd64", "amd64", "7.2.13+deb14"},
		{sid, "linux-binary-unsigned-7.2.13+deb14-cloud-amd64", "amd64", ""},
		{sid, "linux-binary-7.2.13+deb14-amd64", "amd64", ""},
	} {
		r, ok := tc.s.ReleaseOfImage(tc.pkg, tc.arch)
		got := ""
		if ok {
			got = r.String()
		}
		if got != tc.want {
			t.Errorf("%s ReleaseOfImage(%s, %s) = %q, want %q", tc.s.Name, tc.pkg, tc.arch, got, tc.want)
		}
	}
	if got, want := trixie.ImagePattern("arm64"), `^linux-image-[0-9]+\.[0-9]+\.[0-9]+\+deb13(\.[0-9]+)?-arm64-unsigned$`; got != want {
		t.Errorf("ImagePattern = %s, want %s", got, want)
	}
	if got, want := sid.ImagePattern("amd64"), `^linux-binary-unsigned-[0-9]+\.[0-9]+\.[0-9]+\+deb14(\.[0-9]+)?-amd64$`; got != want {
		t.Errorf("ImagePattern = %s, want %s", got, want)
	}
}

func TestUpstreamOf(t *testing.T) {
	for in, want := range map[string]string{"6.12.117-1~deb12u1": "6.12.117", "1:6.1.2-3": "6.1.2", "7.2.13-1": "7.2.13", "6.12.115-2": "6.12.115", "6.1.2": "6.1.2"} {
		if got := UpstreamOf(in); got != want {
			t.Errorf("UpstreamOf(%s) = %s, want %s", in, got, want)
		}
	}
}
