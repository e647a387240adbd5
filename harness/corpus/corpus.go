// Package corpus gives the .BTF of every module of a kernel package as
// plain bytes, for differential runs over a whole distribution kernel.
// Decompressing ~4000 .ko.xz files takes a while, so the result is packed
// once into one cache file beside the kernel's vmlinux BTF.
package corpus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// Module is one module's split BTF.
type Module struct {
	Name string // file name without .ko.xz
	Path string // path relative to the kernel's module directory
	BTF  []byte
}

// ErrBadPack is returned for a damaged pack file (it is then rebuilt).
var ErrBadPack = errors.New("bad module BTF pack")

const packMagic = "btfrecon module BTF pack v1\n"

// Load returns every module of k that has a .BTF section, in path order.
// The first call for a kernel builds the pack (progress goes to progress,
// which may be nil); later calls read it.
func Load(k *kernels.Kernel, progress io.Writer) ([]Module, error) {
	pack := filepath.Join(filepath.Dir(k.BTFPath()), "modules.pack")
	if mods, err := readPack(pack); err == nil {
		return mods, nil
	}
	paths, err := k.Modules()
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintf(progress, "corpus: reading .BTF of %d modules of %s (once; cached in %s)\n", len(paths), k, pack)
	mods, err := extract(paths)
	if err != nil {
		return nil, err
	}
	if err := writePack(pack, mods); err != nil {
		return nil, err
	}
	return mods, nil
}

// extract reads the modules in parallel, keeping path order.
func extract(paths []string) ([]Module, error) {
	mods := make([]Module, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m, err := kmod.Open(paths[i])
				if err != nil {
					errs[i] = err
					continue
				}
				rel := paths[i]
				if j := strings.Index(rel, "/kernel/"); j >= 0 {
					rel = rel[j+1:]
				}
				data, _ := m.BTF()
				mods[i] = Module{Name: m.Name, Path: rel, BTF: data}
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := mods[:0]
	for _, m := range mods {
		if m.BTF != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func writePack(path string, mods []Module) error {
	var b bytes.Buffer
	b.WriteString(packMagic)
	var n [4]byte
	put := func(p []byte) {
		binary.LittleEndian.PutUint32(n[:], uint32(len(p)))
		b.Write(n[:])
		b.Write(p)
	}
	binary.LittleEndian.PutUint32(n[:], uint32(len(mods)))
	b.Write(n[:])
	for _, m := range mods {
		put([]byte(m.Name))
		put([]byte(m.Path))
		put(m.BTF)
	}
	return kmod.WriteFileAtomic(path, b.Bytes(), 0o644)
}

func readPack(path string) ([]Module, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, []byte(packMagic)) {
		return nil, fmt.Errorf("%s: %w: no magic", path, ErrBadPack)
	}
	p := data[len(packMagic):]
	// next cuts a length-prefixed field; lengths are checked against what
	// is left, so a forged one cannot ask for a huge allocation.
	next := func() ([]byte, bool) {
		if len(p) < 4 {
			return nil, false
		}
		n := binary.LittleEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return nil, false
		}
		f := p[4 : 4+n : 4+n]
		p = p[4+n:]
		return f, true
	}
	if len(p) < 4 {
		return nil, fmt.Errorf("%s: %w: no count", path, ErrBadPack)
	}
	count := binary.LittleEndian.Uint32(p)
	p = p[4:]
	var mods []Module
	for i := range count {
		name, ok1 := next()
		rel, ok2 := next()
		btfData, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("%s: %w: module %d of %d truncated", path, ErrBadPack, i, count)
		}
		mods = append(mods, Module{Name: string(name), Path: string(rel), BTF: btfData})
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%s: %w: %d bytes after the last module", path, ErrBadPack, len(p))
	}
	return mods, nil
}
