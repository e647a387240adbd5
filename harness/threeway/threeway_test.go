package threeway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

// ccore finds the C core driver: $BTFRECON_CCORE or the cache's (make ccore).
func ccore(t *testing.T) string {
	t.Helper()
	p := os.Getenv("BTFRECON_CCORE")
	if p == "" {
		dir, err := cache.Dir()
		if err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(dir, "ccore", "btfrecon-ccore")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("C core not built (make ccore): %v", err)
	}
	return p
}

// TestHandAndGenerated holds the C core against the model (and each libbpf
// oracle that is built: 1.5, 1.8) on the hand cases and a few hundred
// generated ones.
func TestHandAndGenerated(t *testing.T) {
	cfg := Config{CCore: ccore(t), Seeds: 8, GenPerSeed: 50, MaxReported: 20, Log: testWriter{t}}
	if os.Getenv("BTFRECON_NO_ORACLE") != "1" {
		for _, v := range oracle.Versions {
			if p, err := v.Find(); err == nil {
				cfg.Oracles = append(cfg.Oracles, Oracle{Name: v.String(), Path: p})
			} else {
				t.Logf("not asked: %v", err)
			}
		}
	}
	sum, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inputs %d, disagreements %d", sum.Inputs, sum.Disagreements)
	for _, name := range sum.Impls {
		t.Logf("  %-10s asked %d, disagreements %d", name, sum.ByImpl[name][0], sum.ByImpl[name][1])
	}
	if sum.Disagreements != 0 {
		t.Fail()
	}
	for _, o := range cfg.Oracles {
		if sum.ByImpl[o.Name][0] == 0 {
			t.Errorf("%s was never asked", o.Name)
		}
	}
	if sum.ByClass["hand"][0] != len(cases.HandCases()) {
		t.Errorf("%d hand inputs ran, want %d", sum.ByClass["hand"][0], len(cases.HandCases()))
	}
}

// TestHandCasesExpectations: every hand case that states an errno gets it
// from the model (the three-way run then holds the others to the model).
func TestHandCasesExpectations(t *testing.T) {
	ins, err := HandInputs()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		got := Model(in)
		if got.Err != nil {
			t.Errorf("%s: %v", in.Name, got.Err)
		} else if in.WantErrno != 0 && got.Errno != in.WantErrno {
			t.Errorf("%s: model %s, want errno %d", in.Name, got, in.WantErrno)
		} else if in.WantErrno == 0 && got.Errno != 0 && !strings.Contains(in.Name, "no candidate") {
			t.Errorf("%s: model %s, want success", in.Name, got)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
