package vm

import "testing"

func TestNoPVH(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		pvh  bool
	}{
		{"minimal", map[string]string{"CONFIG_PVH": "y"}, true},
		// 6.1.192 + kasan.config through PVH: #GP in xen_prepare_pvh
		// (RAX 0xdffffc00004941a7, a shadow address), then a reset
		{"kasan", map[string]string{"CONFIG_PVH": "y", "CONFIG_KASAN": "y"}, false},
		{"kasan off", map[string]string{"CONFIG_PVH": "y", "CONFIG_KASAN": "n"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := noPVH(tc.cfg) == ""; got != tc.pvh {
				t.Errorf("PVH allowed %v, want %v (%q)", got, tc.pvh, noPVH(tc.cfg))
			}
		})
	}
}
