package vm

import "github.com/btfrecon/btfrecon/harness/kernels"

// Machine returns the QEMU arguments a kernel needs beyond machineArgs'
// defaults, and why (nil and "" when it needs none).
func Machine(k *kernels.Kernel) ([]string, string) {
	if k.Arch != "amd64" || k.Local == "" {
		return nil, ""
	}
	cfg, err := k.Config()
	if err != nil {
		return nil, ""
	}
	return machineFor(cfg)
}

// machineFor is Machine's rule on a kernel config. KASAN on amd64: QEMU's
// default machine (i440fx, "pc") evaluates PCI0._PRT as an AML While loop of
// 128 rounds, which a KASAN kernel under TCG interprets so slowly that
// ACPICA aborts it at its 30 s loop bound (AE_AML_LOOP_TIMEOUT) each time a
// device is enabled; the virtio-9p device's interrupt is then never routed
// and the guest waits on the share for ever. q35's _PRT is a static
// package. Measured on 6.1.192 + KASAN (outline, vmalloc): pc hangs at the
// 9p mount after two 30 s aborts; q35 mounts it 8.8 s after boot.
func machineFor(cfg map[string]string) ([]string, string) {
	if cfg["CONFIG_KASAN"] == "y" {
		return []string{"-M", "q35"}, "q35: i440fx's _PRT loop outlasts ACPICA's loop bound under KASAN"
	}
	return nil, ""
}
