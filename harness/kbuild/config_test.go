package kbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want option
		ok   bool
	}{
		{"CONFIG_BPF=y", option{Name: "CONFIG_BPF", Value: "y"}, true},
		{"CONFIG_CMDLINE=\"a b\"", option{Name: "CONFIG_CMDLINE", Value: "\"a b\""}, true},
		{"# CONFIG_SLOB is not set", option{Name: "CONFIG_SLOB"}, true},
		{"# a comment", option{}, false},
		{"", option{}, false},
		{"CONFIG_BROKEN", option{}, false},
	} {
		got, ok := parseConfigLine(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseConfigLine(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCheckFragments(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.config")
	b := filepath.Join(dir, "b.config")
	os.WriteFile(a, []byte("CONFIG_BPF=y\n# CONFIG_SLOB is not set\nCONFIG_NR_CPUS=4\nCONFIG_X=y\n"), 0o644)
	// b overrides CONFIG_X: the last fragment wins
	os.WriteFile(b, []byte("# override\n# CONFIG_X is not set\nCONFIG_GONE=y\n"), 0o644)
	opts, err := parseFragments([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		bad  []string // substrings of the error, nil: no error
	}{
		{"all took", map[string]string{"CONFIG_BPF": "y", "CONFIG_NR_CPUS": "4", "CONFIG_GONE": "y"}, nil},
		{"dropped", map[string]string{"CONFIG_BPF": "y", "CONFIG_NR_CPUS": "4"},
			[]string{b + ":3: CONFIG_GONE=y wanted, .config leaves it unset"}},
		{"changed and set", map[string]string{"CONFIG_BPF": "m", "CONFIG_NR_CPUS": "4", "CONFIG_GONE": "y", "CONFIG_SLOB": "y"},
			[]string{a + ":1: CONFIG_BPF=y wanted, .config has CONFIG_BPF=m",
				a + ":2: CONFIG_SLOB is not set wanted, .config has CONFIG_SLOB=y"}},
		{"override set", map[string]string{"CONFIG_BPF": "y", "CONFIG_NR_CPUS": "4", "CONFIG_GONE": "y", "CONFIG_X": "y"},
			[]string{b + ":2: CONFIG_X is not set wanted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFragments(opts, tc.cfg)
			if tc.bad == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrFragment) {
				t.Fatalf("error %v is not ErrFragment", err)
			}
			for _, s := range tc.bad {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}
