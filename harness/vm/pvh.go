package vm

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point a
// kernel built with CONFIG_PVH advertises, which QEMU's -kernel uses to
// boot an ELF vmlinux directly.
const xenElfnotePhys32Entry = 18

// BootImage returns the file QEMU should boot for k. On amd64 that is the
// ELF vmlinux inside vmlinuz (decompressed once, cached under
// $CACHE/vm/pvh/) when it carries a PVH entry note: QEMU then jumps to the
// kernel's PVH entry, skipping the firmware's Linux boot ROM and the
// in-guest decompression of a ~10 MB zstd payload, which under TCG cost
// 1.5-2 s of every boot. The code that runs is the image's own; only the
// boot path (and so KASLR, which the decompressor applies) differs.
// Anything else boots vmlinuz as it is; the second result says which.
// BTFRECON_VM_PVH=0 boots vmlinuz always (to compare, or to get KASLR).
// A kernel the user built (kernels.OpenPath) boots its own vmlinux when
// that has a PVH entry (no decompression at all), else its boot image the
// same way, the extracted copy keyed by the image's content (a rebuilt
// tree keeps its release).
func BootImage(k *kernels.Kernel) (string, string, error) {
	vmlinuz, err := k.Vmlinuz()
	if err != nil {
		return "", "", err
	}
	if k.Arch != "amd64" {
		return vmlinuz, "vmlinuz", nil
	}
	if os.Getenv("BTFRECON_VM_PVH") == "0" {
		return vmlinuz, "vmlinuz (BTFRECON_VM_PVH=0)", nil
	}
	name := k.Release + "-" + k.Arch + "-" + filepath.Base(vmlinuz)
	var data []byte
	if k.Local != "" {
		if cfg, err := k.Config(); err == nil {
			if why := noPVH(cfg); why != "" {
				return vmlinuz, "vmlinuz (" + why + ")", nil
			}
		}
		if vmlinux, ok := k.HeadersVmlinux(); ok && filePVH(vmlinux) {
			return vmlinux, "PVH ELF vmlinux (the build's own)", nil
		}
		if data, err = os.ReadFile(vmlinuz); err != nil {
			return "", "", err
		}
		sum := sha256.Sum256(data)
		name = "local-" + k.Release + "-" + k.Arch + "-" + hex.EncodeToString(sum[:8])
	}
	dir, err := cache.Sub("vm", "pvh")
	if err != nil {
		return "", "", err
	}
	out := filepath.Join(dir, name+".elf")
	if _, err := os.Stat(out); err == nil {
		return out, "PVH ELF vmlinux", nil
	}
	if data == nil {
		if data, err = os.ReadFile(vmlinuz); err != nil {
			return "", "", err
		}
	}
	img, _, err := kernels.Decompress(data, vmlinuz)
	if err != nil || !hasPVHEntry(img) {
		return vmlinuz, "vmlinuz (no PVH entry in its vmlinux)", nil
	}
	tmp, err := os.CreateTemp(dir, ".vmlinux-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(img); err != nil {
		tmp.Close()
		return "", "", err
	}
	if err := tmp.Close(); err != nil {
		return "", "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", "", err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", "", fmt.Errorf("vm: %w", err)
	}
	return out, "PVH ELF vmlinux", nil
}

// hasPVHEntry reports whether an x86-64 ELF has a Xen PHYS32_ENTRY note.
func hasPVHEntry(img []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return false
	}
	return elfPVH(f)
}

// filePVH is hasPVHEntry for a file, read only where its headers point (a
// build's vmlinux with DWARF is hundreds of MB), that also has code to
// load: an ELF holding only .BTF is no kernel to boot.
func filePVH(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	code := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Filesz > 0 && f.Section(".text") != nil {
			code = true
		}
	}
	return code && elfPVH(f)
}

func elfPVH(f *elf.File) bool {
	if f.Machine != elf.EM_X86_64 {
		return false
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		if found, err := findNote(b, f.ByteOrder, "Xen", xenElfnotePhys32Entry); err == nil && found {
			return true
		}
	}
	return false
}

// findNote walks an ELF note segment for (name, type).
func findNote(b []byte, bo binary.ByteOrder, name string, typ uint32) (bool, error) {
	align4 := func(n uint32) uint32 { return (n + 3) &^ 3 }
	for len(b) >= 12 {
		nsz, dsz, t := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		b = b[12:]
		if uint64(align4(nsz))+uint64(align4(dsz)) > uint64(len(b)) {
			return false, errors.New("truncated note")
		}
		n := string(bytes.TrimRight(b[:nsz], "\x00"))
		if n == name && t == typ {
			return true, nil
		}
		b = b[align4(nsz)+align4(dsz):]
	}
	return false, nil
}

// noPVH says why a kernel of this config must not boot through its PVH
// entry ("" when it may). KASAN: on trees whose arch/x86/platform/pvh is
// still instrumented (6.1.192 as Debian ships it; 7.2 builds it with
// KASAN_SANITIZE := n) xen_prepare_pvh checks its stack's shadow before
// KASAN has mapped any, takes #GP and the guest resets before its first
// console line. The decompressor's path maps the early shadow first.
func noPVH(cfg map[string]string) string {
	if cfg["CONFIG_KASAN"] == "y" {
		return "KASAN: the PVH entry may run instrumented code before the shadow exists"
	}
	return ""
}
