// Package corpus gives the .BTF of every module of a kernel package as
// plain bytes, for differential runs over a whole distribution kernel.
// Decompressing ~4000 .ko.xz files takes a while, so the result is packed
// once into one cache file beside the kernel's vmlinux BTF.
package corpus

import (
	"bufio"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, len(packMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != packMagic {
		return nil, fmt.Errorf("%s: %w: no magic", path, ErrBadPack)
	}
	var n [4]byte
	get := func() ([]byte, error) {
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return nil, err
		}
		p := make([]byte, binary.LittleEndian.Uint32(n[:]))
		_, err := io.ReadFull(r, p)
		return p, err
	}
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrBadPack, err)
	}
	count := binary.LittleEndian.Uint32(n[:])
	mods := make([]Module, 0, min(count, 1<<16))
	for range count {
		name, err1 := get()
		rel, err2 := get()
		data, err3 := get()
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, ErrBadPack, err)
		}
		mods = append(mods, Module{Name: string(name), Path: string(rel), BTF: data})
	}
	return mods, nil
}
