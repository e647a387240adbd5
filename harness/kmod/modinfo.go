package kmod

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// ModInfo is what .modinfo says about a module.
type ModInfo struct {
	Name    string
	Depends []string // module names, '-' folded to '_'
	// SoftPre are the "softdep=pre:" names, as written (module names or
	// aliases such as crypto-crc32c).
	SoftPre  []string
	Vermagic string
	// Aliases are the "alias=" names (pci:v..., crypto-sha256, fs-xfs),
	// as written.
	Aliases []string
}

// ParseModInfo reads the NUL-separated key=value pairs of a .modinfo section.
func ParseModInfo(sec []byte) ModInfo {
	var mi ModInfo
	for _, kv := range bytes.Split(sec, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		switch k {
		case "name":
			mi.Name = v
		case "vermagic":
			mi.Vermagic = v
		case "alias":
			mi.Aliases = append(mi.Aliases, v)
		case "softdep":
			if rest, ok := strings.CutPrefix(strings.TrimSpace(v), "pre:"); ok {
				pre, _, _ := strings.Cut(rest, "post:")
				mi.SoftPre = append(mi.SoftPre, strings.Fields(pre)...)
			}
		case "depends":
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					mi.Depends = append(mi.Depends, ModName(d))
				}
			}
		}
	}
	return mi
}

// ResolveSoft maps a soft dependency (a module name or an alias like
// crypto-crc32c) to a module of the package: the name itself, else the
// crypto algorithm's generic implementation (<alg>_generic). ok is false
// when neither exists (it may be built in).
func ResolveSoft(name string, has func(string) bool) (string, bool) {
	n := ModName(strings.TrimPrefix(name, "crypto-"))
	for _, c := range []string{n, n + "_generic"} {
		if has(c) {
			return c, true
		}
	}
	return "", false
}

// ModName folds a module or file name to the kernel's module name.
func ModName(s string) string {
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".xz"), ".ko")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ReplaceAll(s, "-", "_")
}

// ParseVersions reads a __versions section (struct modversion_info: an
// unsigned long CRC, then a NUL-padded name, 64 bytes an entry on 64-bit
// targets) into symbol → CRC.
func ParseVersions(sec []byte, bo binary.ByteOrder, is64 bool) (map[string]uint64, error) {
	const entry = 64
	if len(sec)%entry != 0 {
		return nil, fmt.Errorf("__versions: %d bytes is not a multiple of %d", len(sec), entry)
	}
	out := make(map[string]uint64, len(sec)/entry)
	for off := 0; off < len(sec); off += entry {
		e := sec[off : off+entry]
		var crc uint64
		name := e[8:]
		if is64 {
			crc = bo.Uint64(e)
		} else {
			crc, name = uint64(bo.Uint32(e)), e[4:]
		}
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		out[string(name)] = crc
	}
	return out, nil
}

// SameABI reports whether two builds of a module import the same symbols
// with the same CRCs (module_layout aside, which changes with every
// release): then the old build's code runs against the new kernel as the
// new build's would, as far as modversions can tell. diff names the first
// symbols that differ.
func SameABI(a, b map[string]uint64) (same bool, diff []string) {
	for s, ca := range a {
		if s == "module_layout" {
			continue
		}
		if cb, ok := b[s]; !ok || cb != ca {
			diff = append(diff, s)
		}
	}
	for s := range b {
		if _, ok := a[s]; !ok && s != "module_layout" {
			diff = append(diff, s)
		}
	}
	sort.Strings(diff)
	return len(diff) == 0, diff
}

// LoadOrder returns want and everything it depends on, each after its
// dependencies. deps gives a module's direct dependencies; a module deps
// does not know is an error, and so is a cycle.
func LoadOrder(want []string, deps map[string][]string) ([]string, error) {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(m string, path []string) error
	visit = func(m string, path []string) error {
		switch state[m] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("module dependency cycle: %s -> %s", strings.Join(path, " -> "), m)
		}
		d, ok := deps[m]
		if !ok {
			if len(path) == 0 {
				return fmt.Errorf("module %s: not in the kernel package", m)
			}
			return fmt.Errorf("module %s (needed by %s): not in the kernel package", m, path[len(path)-1])
		}
		state[m] = visiting
		for _, x := range d {
			if err := visit(x, append(path, m)); err != nil {
				return err
			}
		}
		state[m] = done
		order = append(order, m)
		return nil
	}
	for _, m := range want {
		if err := visit(m, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
