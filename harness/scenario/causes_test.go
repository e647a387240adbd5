package scenario

import (
	"slices"
	"testing"
)

// TestCauses: why a module did not load, from its row (and its
// dependencies' rows), grouped, biggest group first.
func TestCauses(t *testing.T) {
	rows := []Row{
		{Module: "nls_utf8", Role: RoleModule, Kernel: KernelBTF},
		{Module: "edac_mce_amd", Role: RoleModule, Kernel: KernelRefused, Errno: 19},
		{Module: "abituguru", Role: RoleModule, Kernel: KernelRefused, Errno: 19},
		{Module: "amd64_edac", Role: RoleModule, Kernel: KernelRefused, Errno: 2,
			Kmsg: []string{"amd64_edac: Unknown symbol amd_register_ecc_decoder (err -2)"}},
		{Module: "hv_vmbus", Role: RoleModule, Kernel: KernelRefused, Errno: 19},
		{Module: "hv_utils", Role: RoleModule, Kernel: KernelRefused, Errno: 2,
			Kmsg: []string{"hv_utils: Unknown symbol __vmbus_driver_register (err -2)"}},
		{Module: "hv_netvsc", Role: RoleModule, Kernel: KernelRefused, Errno: 2,
			Kmsg: []string{"hv_netvsc: Unknown symbol vmbus_sendpacket_mpb_desc (err -2)"}},
		{Module: "lonely", Role: RoleModule, Kernel: KernelRefused, Errno: 2, Kmsg: []string{"lonely: Unknown symbol foo (err -2)"}},
		{Module: "ubifs", Role: RoleModule, Kernel: KernelRefused, Errno: 2, Kmsg: []string{"UBIFS error (pid 138): cannot initialize compressor zstd, error -2"}},
		{Module: "pc87413_wdt", Role: RoleModule, Kernel: KernelRefused, Errno: 16},
		{Module: "bad", Role: RoleModule, Kernel: KernelRefused, Errno: 22, BTFRefused: true},
		{Module: "amdgpu", Role: RoleModule, Kernel: KernelHung},
		{Module: "tcrypt", Role: RoleModule, Kernel: KernelHung, AtWork: true},
		{Module: "oops", Role: RoleModule, Kernel: KernelCrashed, CrashSite: "foo_init"},
		{Module: "after", Role: RoleModule, Kernel: KernelNotRun, Note: "needs oops, which crashes the guest (boot 3)"},
		{Module: "p9", Role: RoleModule, Kernel: KernelNotRun, Note: "skipped: dependency x: loaded by the initramfs for the 9p share"},
		{Module: "odd", Role: RoleModule, Kernel: KernelRefused, Errno: 1000},
		{Module: "test_bpf", Role: RoleModule, Kernel: KernelInitRunning, Identical: true, Agree: true},
		{Module: "uses_test_bpf", Role: RoleModule, Kernel: KernelNotRun, Note: "needs test_bpf, " + initRunningWhy + " (boot 1)"},
	}
	// hv_netvsc needs hv_utils (made up, to follow a chain), which needs hv_vmbus.
	deps := map[string][]string{"amd64_edac": {"edac_mce_amd"}, "lonely": {"nls_utf8"},
		"hv_utils": {"hv_vmbus"}, "hv_netvsc": {"nls_utf8", "hv_utils"}}
	groups := groupCauses(rows, deps)
	want := []CauseGroup{
		{"ENODEV: no such device (the hardware, CPU feature or firmware interface is not in the guest)", []string{"abituguru", "edac_mce_amd", "hv_vmbus"}},
		{"ENOENT: a module it needs did not load: hv_vmbus (ENODEV)", []string{"hv_netvsc", "hv_utils"}},
		{"EBUSY: device or resource busy (taken by a module loaded before it)", []string{"pc87413_wdt"}},
		{"ENOENT: a module it needs did not load: edac_mce_amd (ENODEV)", []string{"amd64_edac"}},
		{"ENOENT: no such file or directory (a firmware file, or something it requests at init that is not there)", []string{"ubifs"}},
		{"ENOENT: unknown symbol (the running kernel does not export it)", []string{"lonely"}},
		{"crashed the guest (isolated in a boot of its own)", []string{"oops"}},
		{"did not return from finit_module (isolated in a boot of its own)", []string{"amdgpu"}},
		{"errno 1000", []string{"odd"}},
		{"init still at work past its bound under emulation (its BTF judged then; the init's outcome not waited for)", []string{"test_bpf"}},
		{"needs a module that takes the guest down", []string{"after"}},
		{"needs a module whose init was still at work when its boot ended", []string{"uses_test_bpf"}},
		{"not prepared: loaded by the initramfs for the 9p share", []string{"p9"}},
		{"refused for its BTF (failed to validate module)", []string{"bad"}},
		{"still at work in finit_module after 10m0s (its kernel log or modprobe loads growing): too slow under emulation", []string{"tcrypt"}},
	}
	if !slices.EqualFunc(groups, want, func(a, b CauseGroup) bool { return a.Cause == b.Cause && slices.Equal(a.Modules, b.Modules) }) {
		t.Errorf("groups:\n got %q\nwant %q", groups, want)
	}
	if rows[0].Cause != "" || rows[3].Cause != "ENOENT: a module it needs did not load: edac_mce_amd (ENODEV)" {
		t.Errorf("row causes: %q, %q", rows[0].Cause, rows[3].Cause)
	}
}
