package vm

import (
	"slices"
	"testing"
)

func TestMachineFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want []string
	}{
		{"plain", map[string]string{"CONFIG_PCI": "y"}, nil},
		{"kasan", map[string]string{"CONFIG_KASAN": "y"}, []string{"-M", "q35"}},
		{"kasan off", map[string]string{"CONFIG_KASAN": "n"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := machineFor(tc.cfg)
			if !slices.Equal(got, tc.want) {
				t.Errorf("machineFor = %q, want %q", got, tc.want)
			}
			if (why == "") != (got == nil) {
				t.Errorf("why %q for args %q", why, got)
			}
		})
	}
}
