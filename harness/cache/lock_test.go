package cache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLock: a held lock keeps another holder out until it is released.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != syscall.EWOULDBLOCK {
		t.Fatalf("second flock while held: %v, want EWOULDBLOCK", err)
	}
	unlock()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("second flock after unlock: %v", err)
	}
	if _, err := Lock(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil {
		t.Error("a lock in a missing directory: no error")
	}
}
