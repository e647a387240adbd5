package scenario

import "testing"

// TestCosts: a run's step times are kept per kernel and merged with what
// earlier runs measured; a module never timed is guessed from its size.
func TestCosts(t *testing.T) {
	t.Setenv("BTFRECON_CACHE", t.TempDir())
	if c := loadCosts("6.12.117", "amd64"); len(c) != 0 {
		t.Fatalf("costs before any run: %v", c)
	}
	if err := saveCosts("6.12.117", "amd64", []Row{{Module: "test_bpf", Millis: 109876}, {Module: "nls_utf8", Millis: 31}, {Module: "gone"},
		{Module: "speakup_apollo", Millis: 60060, Kernel: KernelHung}}); err != nil {
		t.Fatal(err)
	}
	if err := saveCosts("6.12.117", "amd64", []Row{{Module: "nls_utf8", Millis: 45}}); err != nil {
		t.Fatal(err)
	}
	c := loadCosts("6.12.117", "amd64")
	if len(c) != 2 || c["test_bpf"] != 109876 || c["nls_utf8"] != 45 {
		t.Fatalf("costs = %v", c)
	}
	if got := c.cost("test_bpf", 1); got != 109876 {
		t.Errorf("measured cost %v", got)
	}
	// 40 ms and 0.8 ms a KiB (1250 bytes a ms): 100,000 bytes -> 120 ms.
	if got := c.cost("never_timed", 100000); got != 120 {
		t.Errorf("guessed cost %v, want 120", got)
	}
	if other := loadCosts("6.12.117", "arm64"); len(other) != 0 {
		t.Errorf("another arch's costs: %v", other)
	}
}
