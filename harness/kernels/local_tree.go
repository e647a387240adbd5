package kernels

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"
)

// TreeLayout is how MakeTree lays a kernel's modules out.
type TreeLayout int

const (
	// InTree: a build tree after make modules: every .ko uncompressed at
	// its source path, modules.order, include/config/kernel.release,
	// .config, arch/<arch>/boot/<image>.
	InTree TreeLayout = iota
	// Installed: a directory holding vmlinux, the boot image and
	// lib/modules/<release>/ as make modules_install INSTALL_MOD_PATH
	// leaves it (the package's .ko.xz linked), boot/config-<release>.
	Installed
)

func (l TreeLayout) String() string {
	if l == Installed {
		return "installed"
	}
	return "in-tree"
}

// MakeTree writes into dst (which must not exist) the directory a user's
// build of k would be, from k's Debian packages: the real vmlinuz as the
// boot image, k's modules and config, and a vmlinux ELF with k's vmlinux
// BTF as .BTF (amd64: the ELF vmlinux inside vmlinuz, which has it; arm64:
// an ELF holding only .BTF, as the Image is no ELF). OpenPath on dst then
// opens the same kernel. It is built in a temporary directory beside dst
// and renamed into place: nothing half-made is left on failure. keep, if
// not nil, picks the modules (by ModulePath) to lay out.
func MakeTree(k *Kernel, dst string, layout TreeLayout, keep func(rel string) bool) error {
	if k.local != nil {
		return fmt.Errorf("%s: MakeTree takes a Debian kernel", k)
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s: %w", dst, os.ErrExist)
	}
	uname, err := k.Uname()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	vmlinuz, err := k.Vmlinuz()
	if err != nil {
		return err
	}
	if err := writeVmlinux(k, vmlinuz, filepath.Join(tmp, "vmlinux")); err != nil {
		return err
	}
	cfg, err := k.ConfigPath()
	if err != nil {
		return err
	}
	all, err := k.Modules()
	if err != nil {
		return err
	}
	var mods []string
	for _, m := range all {
		if keep == nil || keep(k.ModulePath(m)) {
			mods = append(mods, m)
		}
	}
	image := map[string]string{"amd64": "bzImage", "arm64": "Image"}[k.Arch]
	switch layout {
	case InTree:
		dir := map[string]string{"amd64": "x86", "arm64": "arm64"}[k.Arch]
		if err := linkOrCopy(vmlinuz, filepath.Join(tmp, "arch", dir, "boot", image)); err != nil {
			return err
		}
		if err := linkOrCopy(cfg, filepath.Join(tmp, ".config")); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(tmp, "include", "config", "kernel.release"), []byte(uname+"\n")); err != nil {
			return err
		}
		var order bytes.Buffer
		for _, m := range mods {
			rel := strings.TrimSuffix(k.ModulePath(m), ".xz")
			rel = strings.TrimPrefix(rel, "kernel/")
			if err := inflate(m, filepath.Join(tmp, rel)); err != nil {
				return err
			}
			order.WriteString(rel + "\n")
		}
		if err := writeFile(filepath.Join(tmp, "modules.order"), order.Bytes()); err != nil {
			return err
		}
		if err := copyBuiltin(k, uname, tmp); err != nil {
			return err
		}
	case Installed:
		if err := linkOrCopy(vmlinuz, filepath.Join(tmp, image)); err != nil {
			return err
		}
		if err := linkOrCopy(cfg, filepath.Join(tmp, "boot", "config-"+uname)); err != nil {
			return err
		}
		root := filepath.Join(tmp, "lib", "modules", uname)
		for _, m := range mods {
			if err := linkOrCopy(m, filepath.Join(root, k.ModulePath(m))); err != nil {
				return err
			}
		}
		if err := copyBuiltin(k, uname, root); err != nil {
			return err
		}
	default:
		return fmt.Errorf("MakeTree: unknown layout %d", layout)
	}
	return os.Rename(tmp, dst)
}

// copyBuiltin copies the package's modules.builtin into dir.
func copyBuiltin(k *Kernel, uname, dir string) error {
	for _, d := range k.BootDirs {
		p := filepath.Join(d, "lib", "modules", uname, "modules.builtin")
		if _, err := os.Stat(p); err == nil {
			return linkOrCopy(p, filepath.Join(dir, "modules.builtin"))
		}
	}
	return nil
}

// writeVmlinux writes a vmlinux ELF with k's vmlinux BTF.
func writeVmlinux(k *Kernel, vmlinuz, out string) error {
	data, err := os.ReadFile(vmlinuz)
	if err != nil {
		return err
	}
	img, _, err := Decompress(data, vmlinuz)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(img, []byte(elf.ELFMAG)) {
		if _, err := ELFSectionBTF(img, vmlinuz); err == nil {
			return writeFile(out, img)
		}
	}
	raw, err := k.VmlinuxBTF()
	if err != nil {
		return err
	}
	m := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[k.Arch]
	return writeFile(out, BTFELF(m, raw))
}

// BTFELF is a minimal little-endian ELF64 executable of machine m whose
// one section besides the name table is .BTF holding raw: a vmlinux as
// far as the BTF tools (and OpenPath) read one.
func BTFELF(m elf.Machine, raw []byte) []byte {
	const ehsize, shentsize = 64, 64
	shstr := []byte("\x00.BTF\x00.shstrtab\x00")
	le := binary.LittleEndian
	var b bytes.Buffer
	b.Write(make([]byte, ehsize))
	btfOff := b.Len()
	b.Write(raw)
	strOff := b.Len()
	b.Write(shstr)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	shoff := b.Len()
	sh := func(name, typ uint32, flags uint64, off, size int) {
		var s [shentsize]byte
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[8:], flags)
		le.PutUint64(s[24:], uint64(off))
		le.PutUint64(s[32:], uint64(size))
		le.PutUint64(s[48:], 1) // addralign
		b.Write(s[:])
	}
	sh(0, 0, 0, 0, 0)
	sh(1, uint32(elf.SHT_PROGBITS), uint64(elf.SHF_ALLOC), btfOff, len(raw))
	sh(6, uint32(elf.SHT_STRTAB), 0, strOff, len(shstr))
	out := b.Bytes()
	h := out[:ehsize]
	copy(h, elf.ELFMAG)
	h[4], h[5], h[6] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(h[16:], uint16(elf.ET_EXEC))
	le.PutUint16(h[18:], uint16(m))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(h[40:], uint64(shoff))
	le.PutUint16(h[52:], ehsize)
	le.PutUint16(h[58:], shentsize)
	le.PutUint16(h[60:], 3) // shnum
	le.PutUint16(h[62:], 2) // shstrndx
	return out
}

func writeFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// linkOrCopy hard-links src to dst (the cache and dst share a file
// system in tests), copying when it cannot.
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// inflate writes a module uncompressed, as the build leaves it.
func inflate(src, dst string) error {
	if !strings.HasSuffix(src, ".xz") {
		return linkOrCopy(src, dst)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := xz.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", src, err)
	}
	return out.Close()
}
