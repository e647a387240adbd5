package threeway

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// GenInputs gives at least n inputs per seed, the same ones every time,
// each decoding and judged by the model (no harness failure); some cases
// are big endian, some hostile, and the model both relocates and refuses.
func TestGenInputs(t *testing.T) {
	cases := map[string]bool{}
	var bigEndian, hostile, ok, refused int
	for seed := range uint64(4) {
		ins, err := GenInputs(seed, 300)
		if err != nil {
			t.Fatal(err)
		}
		again, err := GenInputs(seed, 300)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) < 300 || len(ins) != len(again) {
			t.Fatalf("seed %d: %d inputs, then %d; want the same 300 or more", seed, len(ins), len(again))
		}
		names := map[string]bool{}
		for i, in := range ins {
			a := again[i]
			if in.Name != a.Name || !bytes.Equal(in.D, a.D) || !bytes.Equal(in.S, a.S) || !bytes.Equal(in.T.Raw, a.T.Raw) {
				t.Fatalf("seed %d input %d (%s) is not deterministic", seed, i, in.Name)
			}
			if names[in.Name] {
				t.Fatalf("seed %d: two inputs named %s", seed, in.Name)
			}
			names[in.Name] = true
			if !strings.HasPrefix(in.Name, "gen/") {
				t.Fatalf("%s: not in class gen", in.Name)
			}
			out := Model(in)
			if out.Err != nil {
				t.Fatalf("%s: %v", in.Name, out.Err)
			}
			if out.Errno == 0 {
				ok++
			} else {
				refused++
			}
			c := in.Name[:strings.Index(in.Name, "/target")]
			if cases[c] {
				continue
			}
			cases[c] = true
			d, err := btf.Parse(in.D)
			if err != nil {
				t.Fatalf("%s: %v", in.Name, err)
			}
			if d.Order() == binary.BigEndian {
				bigEndian++
			}
			if strings.Contains(in.Name, "hostile:") {
				hostile++
			}
		}
	}
	n := len(cases)
	t.Logf("%d cases: %d big endian, %d hostile; relocations %d ok, %d refused", n, bigEndian, hostile, ok, refused)
	if bigEndian*48 < n || bigEndian*8 > n { // one in 16, give or take three deviations
		t.Errorf("%d big-endian cases of %d, want about one in 16", bigEndian, n)
	}
	if hostile*12 < n || hostile*3 > n {
		t.Errorf("%d hostile cases of %d, want about one in 6", hostile, n)
	}
	if ok < refused/3 || refused < ok/3 {
		t.Errorf("relocations: %d ok, %d refused; want both common", ok, refused)
	}
}
