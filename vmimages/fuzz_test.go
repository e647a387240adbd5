package vmimages

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any catalog text parses or is refused with an error, never a
// panic; accepted entries have every field set.
func FuzzParse(f *testing.F) {
	f.Add("6.12.117\tamd64\timage\tlinux-image-6.12.117+deb12-amd64-unsigned\t6.12.117-1~deb12u1\t" + strings.Repeat("a", 64) + "\t1\n")
	f.Add("# comment\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		entries, err := Parse("fuzz", strings.NewReader(text))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Release == "" || e.Arch == "" || e.Package == "" || e.Version == "" || e.SHA256 == "" {
				t.Fatalf("accepted an incomplete entry: %+v", e)
			}
		}
	})
}

// FuzzParseRelease: any name parses or is refused with ErrRelease; an
// accepted one round-trips through its canonical name and its ABI name, and
// its ABI name carries the upstream version and the suite's +debN.
func FuzzParseRelease(f *testing.F) {
	for _, s := range []string{"6.12.117", "6.12.117+deb12", "6.12.115+deb13.1", "7.2.13+deb14", "6.12", "1.2.3+deb99", "0.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRelease(s)
		if err != nil {
			if !errors.Is(err, ErrRelease) {
				t.Fatalf("error does not wrap ErrRelease: %v", err)
			}
			return
		}
		for _, name := range []string{r.String(), r.ABI()} {
			r2, err := ParseRelease(name)
			if err != nil || r2 != r {
				t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, r, name, r2, err)
			}
		}
		if !strings.HasPrefix(r.ABI(), r.Upstream()+"+deb") || r.Suite().Deb != r.Deb {
			t.Fatalf("%q: ABI %s, suite %+v", s, r.ABI(), r.Suite())
		}
	})
}
