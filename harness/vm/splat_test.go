package vm

import (
	"os"
	"strings"
	"testing"
)

func TestSplat(t *testing.T) {
	console, err := os.ReadFile("testdata/oops-6.12.117-amd64.console")
	if err != nil {
		t.Fatal(err)
	}
	// What 6.12.117 printed for the split-id-out-of-range row, trimmed by hand.
	want := []string{
		"BUG: kernel NULL pointer dereference, address: 0000000000000007",
		"RIP: 0010:btf_relocate_map_distilled_base+0x185/0x7a0",
		"Call Trace:",
		"  btf_relocate+0x1ef/0x2b0",
		"  btf_module_notify+0x4f7/0x620",
		"  notifier_call_chain+0x5d/0xd0",
		"  blocking_notifier_call_chain_robust+0x65/0xc0",
		"  load_module+0x1c26/0x21b0",
		"  init_module_from_file+0x89/0xe0",
		"  idempotent_init_module+0x11d/0x310",
		"  __x64_sys_finit_module+0x5e/0xb0",
		"  do_syscall_64+0x87/0x1b0",
		"  entry_SYSCALL_64_after_hwframe+0x76/0x7e",
		"Kernel panic - not syncing: Fatal exception",
	}
	got := Splat(string(console))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("splat:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	arm := "[ 9.1] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000007\n" +
		"[ 9.2] pc : btf_relocate_map_distilled_base+0x1a4/0x6c8\n[ 9.2] lr : btf_relocate_map_distilled_base+0x190/0x6c8\n" +
		"[ 9.3] x29: ffff\n[ 9.3] Call trace:\n[ 9.3]  btf_relocate_map_distilled_base+0x1a4/0x6c8\n[ 9.3]  btf_relocate+0x1ef/0x2b0\n" +
		"[ 9.4] Code: 1234\n[ 9.5] ---[ end trace 0000000000000000 ]---\n"
	if got := strings.Join(Splat(arm), "|"); got != "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000007|"+
		"pc : btf_relocate_map_distilled_base+0x1a4/0x6c8|lr : btf_relocate_map_distilled_base+0x190/0x6c8|Call Trace:|"+
		"  btf_relocate_map_distilled_base+0x1a4/0x6c8|  btf_relocate+0x1ef/0x2b0" {
		t.Fatalf("arm64 splat: %s", got)
	}
	if Splat("[ 1.0] all is well\n") != nil {
		t.Fatal("a splat in a clean console")
	}
}
