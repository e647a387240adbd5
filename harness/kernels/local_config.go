package kernels

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrConfig: the kernel's config lacks what btfrecon needs of it; the
// message names each option, why, and the config lines that fix it.
var ErrConfig = errors.New("kernel config lacks what is needed")

// ErrNoIKConfig: no IKCONFIG blob in an image.
var ErrNoIKConfig = errors.New("no IKCONFIG blob")

var (
	ikcfgStart = []byte("IKCFG_ST")
	ikcfgEnd   = []byte("IKCFG_ED")
)

// IKConfig returns the config a kernel built with CONFIG_IKCONFIG carries
// (kernel/configs.c: gzip data between the markers "IKCFG_ST" and
// "IKCFG_ED"), read out of a vmlinux, an uncompressed Image or configs.ko.
// name is for messages.
func IKConfig(data []byte, name string) ([]byte, error) {
	for off := 0; ; {
		i := bytes.Index(data[off:], ikcfgStart)
		if i < 0 {
			return nil, fmt.Errorf("%s: %w (the kernel was built without CONFIG_IKCONFIG=y)", name, ErrNoIKConfig)
		}
		at := off + i + len(ikcfgStart)
		off = at
		// The markers also sit in the code that finds them; only a gzip
		// member that ends right at IKCFG_ED is the blob.
		end := bytes.Index(data[at:], ikcfgEnd)
		if end < 0 || end < 18 || data[at] != 0x1f || data[at+1] != 0x8b {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data[at : at+end]))
		if err != nil {
			return nil, fmt.Errorf("%s: IKCONFIG at offset %#x: %w", name, at, err)
		}
		zr.Multistream(false)
		// A config is well under 1 MiB; a bound keeps a hostile blob
		// from inflating without end.
		out, err := io.ReadAll(io.LimitReader(zr, 16<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: IKCONFIG at offset %#x: %w", name, at, err)
		}
		return out, nil
	}
}

// findConfig takes the config from the tree (.config), an install
// (boot/config-<release>, config-<release>, lib/modules/<release>/config)
// or, failing those, CONFIG_IKCONFIG in vmlinux, the boot image or
// configs.ko.
func (l *localKernel) findConfig(release string) error {
	for _, c := range []string{".config", "boot/config-" + release, "config-" + release, "lib/modules/" + release + "/config"} {
		p := filepath.Join(l.dir, c)
		fd, err := os.Open(p)
		if err != nil {
			continue
		}
		cfg, err := ParseConfig(fd)
		fd.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		l.config, l.cfg = p, cfg
		return nil
	}
	var tried []string
	for _, src := range []string{l.vmlinux, l.image, "configs.ko"} {
		if src == "configs.ko" {
			p, err := l.module("configs")
			if err != nil {
				continue
			}
			src = p
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if src == l.image {
			if data, _, err = Decompress(data, src); err != nil {
				tried = append(tried, err.Error())
				continue
			}
		} else if moduleBase(src) != "" && !strings.HasSuffix(src, ".ko") {
			if data, _, err = Decompress(data, src); err != nil {
				tried = append(tried, err.Error())
				continue
			}
		}
		b, err := IKConfig(data, src)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		cfg, err := ParseConfig(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: IKCONFIG: %w", src, err)
		}
		l.ikconfig, l.ikconfigFrom, l.cfg = b, src, cfg
		return nil
	}
	return fmt.Errorf("%s: no kernel config: no .config, boot/config-%s, config-%s or lib/modules/%s/config, and no IKCONFIG (%s): %w: copy the build's .config there, or build with CONFIG_IKCONFIG=y",
		l.dir, release, release, release, strings.Join(tried, "; "), ErrConfig)
}

// where names the config for messages.
func (l *localKernel) where() string {
	if l.config != "" {
		return l.config
	}
	return l.ikconfigFrom + " (IKCONFIG)"
}

// configPath is the config file; an IKCONFIG copy is written once into
// the cache beside the vmlinux BTF.
func (l *localKernel) configPath(k *Kernel) (string, error) {
	if l.config != "" {
		return l.config, nil
	}
	p := filepath.Join(filepath.Dir(k.BTFPath()), "config")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return p, writeFileAtomic(p, l.ikconfig)
}

// need is one config requirement.
type need struct {
	opt string
	// module: "m" is enough when this module is in the kernel's files.
	module string
	why    string
	fix    string // the config lines that fix it
}

// btfNeeds are what every use of a kernel needs: its vmlinux BTF and its
// modules' BTF (the scenario distills and relocates module BTF).
var btfNeeds = []need{
	{opt: "CONFIG_DEBUG_INFO_BTF", why: "vmlinux BTF (/sys/kernel/btf/vmlinux) is the base every module's BTF is made and relocated against", fix: "CONFIG_DEBUG_INFO=y CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y CONFIG_DEBUG_INFO_BTF=y (pahole installed)"},
	{opt: "CONFIG_DEBUG_INFO_BTF_MODULES", why: "modules carry .BTF and the kernel serves it in /sys/kernel/btf/<module>", fix: "CONFIG_DEBUG_INFO_BTF=y CONFIG_DEBUG_INFO_BTF_MODULES=y"},
	{opt: "CONFIG_MODULES", why: "the scenario loads modules", fix: "CONFIG_MODULES=y CONFIG_MODULE_UNLOAD=y"},
}

// guestNeeds are what the VM guest needs of the kernel it boots (harness/vm
// and gotest): how QEMU boots it and talks to it, the initramfs's 9p
// modules, the guest test's syscalls.
func guestNeeds(arch string) []need {
	n := []need{
		{opt: "CONFIG_BLK_DEV_INITRD", why: "the guest runs from an initramfs (u-root init and the guest test)", fix: "CONFIG_BLK_DEV_INITRD=y"},
		{opt: "CONFIG_DEVTMPFS", why: "u-root's init mounts devtmpfs on /dev", fix: "CONFIG_DEVTMPFS=y"},
		{opt: "CONFIG_PROC_FS", why: "the guest test reads /proc (modules, kallsyms)", fix: "CONFIG_PROC_FS=y"},
		{opt: "CONFIG_SYSFS", why: "the guest test reads /sys/kernel/btf", fix: "CONFIG_SYSFS=y"},
		{opt: "CONFIG_MODULE_UNLOAD", why: "a kfunc module's control build is unloaded before the distilled one loads", fix: "CONFIG_MODULE_UNLOAD=y"},
		{opt: "CONFIG_BPF_SYSCALL", why: "the guest test probes kfuncs with BPF programs", fix: "CONFIG_BPF=y CONFIG_BPF_SYSCALL=y"},
		{opt: "CONFIG_VIRTIO", why: "the guest's share and its console are virtio devices", fix: "CONFIG_VIRTIO=y"},
		{opt: "CONFIG_NETFS_SUPPORT", module: "netfs", why: "the 9p file system needs netfs", fix: "CONFIG_NETFS_SUPPORT=y"},
		{opt: "CONFIG_NET_9P", module: "9pnet", why: "the guest mounts its share over virtio-9p", fix: "CONFIG_NET=y CONFIG_NET_9P=y CONFIG_NET_9P_VIRTIO=y CONFIG_9P_FS=y"},
		{opt: "CONFIG_NET_9P_VIRTIO", module: "9pnet_virtio", why: "the guest mounts its share over virtio-9p", fix: "CONFIG_NET_9P=y CONFIG_NET_9P_VIRTIO=y CONFIG_9P_FS=y"},
		{opt: "CONFIG_9P_FS", module: "9p", why: "the guest mounts its share over virtio-9p", fix: "CONFIG_NET_9P=y CONFIG_NET_9P_VIRTIO=y CONFIG_9P_FS=y"},
	}
	n = append(n, need{opt: "CONFIG_VIRTIO_PCI", why: "QEMU puts the 9p share on virtio-pci (virtio-9p-pci)", fix: "CONFIG_PCI=y CONFIG_VIRTIO_PCI=y"})
	switch arch {
	case "amd64":
		n = append(n,
			need{opt: "CONFIG_SERIAL_8250", why: "the guest's console is the serial port (console=ttyS0): the harness reads verdicts from it", fix: "CONFIG_SERIAL_8250=y CONFIG_SERIAL_8250_CONSOLE=y"},
			need{opt: "CONFIG_SERIAL_8250_CONSOLE", why: "the guest's console is the serial port (console=ttyS0): the harness reads verdicts from it", fix: "CONFIG_SERIAL_8250=y CONFIG_SERIAL_8250_CONSOLE=y"},
			need{opt: "CONFIG_ACPI", why: "the guest powers QEMU off through ACPI when it is done", fix: "CONFIG_ACPI=y"})
	case "arm64":
		n = append(n,
			need{opt: "CONFIG_PCI_HOST_GENERIC", why: "QEMU's virt machine has its PCI devices (the 9p share) behind a generic ECAM host bridge", fix: "CONFIG_PCI=y CONFIG_PCI_HOST_GENERIC=y"},
			need{opt: "CONFIG_SERIAL_AMBA_PL011", why: "the guest's console is the PL011 UART (console=ttyAMA0): the harness reads verdicts from it", fix: "CONFIG_SERIAL_AMBA_PL011=y CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"},
			need{opt: "CONFIG_SERIAL_AMBA_PL011_CONSOLE", why: "the guest's console is the PL011 UART (console=ttyAMA0): the harness reads verdicts from it", fix: "CONFIG_SERIAL_AMBA_PL011=y CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"})
	}
	return n
}

// unmet returns one line per need the config does not meet: "y", or "m"
// with the module among the kernel's files.
func unmet(where string, cfg map[string]string, needs []need, has func(string) bool) []string {
	var out []string
	for _, n := range needs {
		v := cfg[n.opt]
		switch {
		case v == "y":
			continue
		case v == "m" && n.module != "" && has(n.module):
			continue
		}
		state := "is not set"
		switch {
		case v == "m" && n.module != "":
			state = "=m but " + n.module + ".ko is not among the kernel's modules"
		case v == "m":
			state = "=m: it must be built in"
		case v != "" && v != "n":
			state = "=" + v
		}
		out = append(out, fmt.Sprintf("%s: %s %s: %s; add %s", where, n.opt, state, n.why, n.fix))
	}
	return out
}

// checkBTFConfig refuses a kernel whose config does not give BTF.
func (l *localKernel) checkBTFConfig() error {
	has := func(m string) bool { _, err := l.module(m); return err == nil }
	if bad := unmet(l.where(), l.cfg, btfNeeds, has); len(bad) > 0 {
		return fmt.Errorf("%w:\n  %s", ErrConfig, strings.Join(bad, "\n  "))
	}
	return nil
}

// CheckGuest reports what the kernel's config lacks for btfrecon's VM
// guest (the virtio-9p share, the serial console, initramfs, BTF,
// modules, BPF), each missing option with why and the config lines that
// fix it; nil when it has everything. The 9p pieces may be modules when
// the kernel's files hold them.
func (k *Kernel) CheckGuest() error {
	cfg, err := k.Config()
	if err != nil {
		return err
	}
	where, _ := k.ConfigPath()
	if k.local != nil {
		where = k.local.where()
	}
	has := func(m string) bool { _, err := k.Module(m); return err == nil }
	bad := unmet(where, cfg, append(append([]need{}, btfNeeds...), guestNeeds(k.Arch)...), has)
	if len(bad) > 0 {
		return fmt.Errorf("%s cannot boot as btfrecon's guest: %w:\n  %s", k, ErrConfig, strings.Join(bad, "\n  "))
	}
	return nil
}
