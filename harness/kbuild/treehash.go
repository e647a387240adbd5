package kbuild

import (
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

// statEntry is what a file looked like when its content was hashed: the
// sum is reused only while size, mtime, ctime and inode are unchanged (git's
// index does the same). Content is what the key hashes; stat only says
// which files need reading again.
type statEntry struct {
	Size, Mtime, Ctime int64
	Ino                uint64
	Sum                [32]byte
}

// hashTree hashes the content of every file under dir (symlinks by their
// target, .git skipped), in path order. cachePath keeps the per-file sums
// between runs ("" = none). It returns the hash and how many files it read.
func hashTree(dir, cachePath string) (string, int, error) {
	old := map[string]statEntry{}
	if cachePath != "" {
		if f, err := os.Open(cachePath); err == nil {
			_ = gob.NewDecoder(f).Decode(&old) // a damaged cache is rebuilt
			f.Close()
		}
	}
	type file struct {
		rel  string
		link string
		st   statEntry
		read bool
	}
	var files []*file
	start := time.Now()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		f := &file{rel: rel}
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			f.link = t
		} else if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			sys := info.Sys().(*syscall.Stat_t)
			f.st = statEntry{Size: info.Size(), Mtime: info.ModTime().UnixNano(),
				Ctime: sys.Ctim.Nano(), Ino: sys.Ino}
		} else {
			return nil
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("hash tree %s: %w", dir, err)
	}
	// A file changed within the last two seconds may change again within
	// the same mtime tick: hash it but do not remember it.
	racy := start.Add(-2 * time.Second).UnixNano()
	work := make(chan *file)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	nread := 0
	for range max(runtime.NumCPU(), 2) {
		wg.Go(func() {
			for f := range work {
				sum, err := fileSum(filepath.Join(dir, f.rel))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				nread++
				mu.Unlock()
				f.st.Sum = sum
			}
		})
	}
	for _, f := range files {
		if f.link != "" {
			continue
		}
		if e, ok := old[f.rel]; ok && e.Size == f.st.Size && e.Mtime == f.st.Mtime &&
			e.Ctime == f.st.Ctime && e.Ino == f.st.Ino {
			f.st.Sum = e.Sum
			continue
		}
		f.read = true
		work <- f
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return "", 0, fmt.Errorf("hash tree %s: %w", dir, firstErr)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	h := sha256.New()
	next := make(map[string]statEntry, len(files))
	for _, f := range files {
		if f.link != "" {
			fmt.Fprintf(h, "l %s\x00%s\x00", f.rel, f.link)
			continue
		}
		fmt.Fprintf(h, "f %s\x00%x\x00", f.rel, f.st.Sum)
		if f.st.Mtime < racy {
			next[f.rel] = f.st
		}
	}
	if cachePath != "" {
		if err := writeGob(cachePath, next); err != nil {
			return "", 0, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nread, nil
}

func fileSum(p string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(p)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("%s: %w", p, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// writeGob writes v to path through a temporary file renamed into place.
func writeGob(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(tmp).Encode(v); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
