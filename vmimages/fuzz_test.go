package vmimages

import (
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
