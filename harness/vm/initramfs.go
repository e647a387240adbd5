package vm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// NinePModules are the modules a Debian kernel needs to mount vmtest's 9p
// share, in load order (u-root's init loads /lib/modules/*.ko by name, with
// no dependency resolution, hence the numbered names).
var NinePModules = []string{"netfs", "9pnet", "9pnet_virtio", "9p"}

// initramfsRecipe changes when the initramfs content changes in a way the
// inputs hashed below do not show.
const initramfsRecipe = "btfrecon-initramfs v2: u-root init + vmtest shutdownafter/vmmount, uinit runs " + GuestTestPath

// GuestTestPath is where the guest test binary sits in the initramfs: not
// in the initramfs RunPlan caches (it changes with the code) but in a small
// cpio archive appended to it for each boot (the kernel unpacks
// concatenated archives in order). Running it from the initramfs instead of
// from the 9p share, and without vmtest's gouinit + test2json in between,
// saves the 9p page-ins of a 5 MB binary and two process start-ups.
const GuestTestPath = "/gotest.test"

// guestTestArgs run only the plan (the protocol's unit tests are built out
// of the guest binary anyway) with -test.v so the console shows it.
var guestTestArgs = []string{"-test.run=^TestPlan$", "-test.v", "-test.timeout=0"}

// BuildInitramfs returns a u-root initramfs for kernel k: u-root's init,
// vmtest's shutdownafter and vmmount, and k's 9p modules uncompressed as
// /lib/modules/0N-<name>.ko; its uinit is `shutdownafter -- vmmount --
// /gotest.test -test.run=^TestPlan$`, the binary coming from the archive
// WithGuestTest appends. It is built once per (kernel, module bytes,
// go.sum, recipe) and cached under $CACHE/initramfs/. src is the btfrecon
// module root: the u-root and vmtest commands are built in its module
// context.
func BuildInitramfs(ctx context.Context, k *kernels.Kernel, src string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	var mods [][]byte
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", initramfsRecipe, k.Arch)
	for _, name := range NinePModules {
		// A kernel built with the 9p pieces =y has no files for them.
		if k.BuiltIn(name) {
			mods = append(mods, nil)
			fmt.Fprintf(h, "built-in %s\n", name)
			continue
		}
		p, err := k.Module(name)
		if err != nil {
			return "", fmt.Errorf("initramfs for %s: %w", k, err)
		}
		b, err := readXZ(p)
		if err != nil {
			return "", fmt.Errorf("initramfs for %s: %w", k, err)
		}
		mods = append(mods, b)
		h.Write(b)
	}
	sum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	// Only what the initramfs is built from: a go.sum change elsewhere
	// must not cost a 20-70 s rebuild.
	for _, l := range strings.Split(string(sum), "\n") {
		if strings.HasPrefix(l, "github.com/u-root/") || strings.HasPrefix(l, "github.com/hugelgupf/") || strings.HasPrefix(l, "golang.org/x/sys ") {
			fmt.Fprintln(h, l)
		}
	}
	fmt.Fprintln(h, runtime.Version())
	key := hex.EncodeToString(h.Sum(nil))[:16]
	dir, err := cache.Sub("initramfs")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.cpio", k.Release, k.Arch, key))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}

	fmt.Fprintf(progress, "vm: building the u-root initramfs for %s (once; cached as %s)\n", k, out)
	start := time.Now()
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var files []string
	for i, name := range NinePModules {
		if mods[i] == nil {
			continue
		}
		p := filepath.Join(tmp, name+".ko")
		if err := os.WriteFile(p, mods[i], 0o644); err != nil {
			return "", err
		}
		files = append(files, fmt.Sprintf("%s:lib/modules/%02d-%s.ko", p, i+1, name))
	}
	cpio := filepath.Join(tmp, "initramfs.cpio")
	// u-root's builder runs as a program of its own (see mkinitramfs):
	// linked in, its dependencies cost every btfrecon process.
	args := []string{"run", "./harness/vm/internal/mkinitramfs", "-arch", k.Arch, "-dir", src, "-tmp", tmp, "-o", cpio}
	for _, f := range files {
		args = append(args, "-file", f)
	}
	args = append(args, "--", "shutdownafter", "--", "vmmount", "--", GuestTestPath)
	args = append(args, guestTestArgs...)
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = src
	// The helper runs on the host; the guest's GOARCH is its -arch.
	cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=")
	var stderr bytes.Buffer
	cmd.Stdout = progress
	cmd.Stderr = io.MultiWriter(progress, &stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("initramfs for %s: %w\n%s", k, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.Rename(cpio, out); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "vm: initramfs built in %.1f s\n", time.Since(start).Seconds())
	return out, nil
}

func readXZ(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".xz") {
		return io.ReadAll(f)
	}
	r, err := xz.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// GuestTest compiles the guest test package (gotest, build tag vmguest)
// for arch into out, without symbol tables or DWARF (smaller to unpack).
func GuestTest(ctx context.Context, src, arch, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goTool(), "test", "-c", "-tags", "vmguest", "-trimpath", "-ldflags=-s -w", "-o", out, "./gotest")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling the guest test for %s: %w\n%s", arch, err, b)
	}
	return nil
}

// WithGuestTest writes to out the initramfs base followed by a cpio archive
// holding the guest test binary as GuestTestPath.
func WithGuestTest(base, guestTest, out string) error {
	bin, err := os.ReadFile(guestTest)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(base)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(b)
	for buf.Len()%4 != 0 { // newc archives start 4-aligned
		buf.WriteByte(0)
	}
	writeNewc(&buf, strings.TrimPrefix(GuestTestPath, "/"), 0o100755, bin)
	writeNewc(&buf, "TRAILER!!!", 0, nil)
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// writeNewc appends one "newc" cpio entry (the format the kernel unpacks).
func writeNewc(w *bytes.Buffer, name string, mode uint32, data []byte) {
	pad := func() {
		for w.Len()%4 != 0 {
			w.WriteByte(0)
		}
	}
	nlink := 1
	if mode == 0 {
		nlink = 0
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize, check
	fmt.Fprintf(w, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		0, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	w.WriteString(name)
	w.WriteByte(0)
	pad()
	w.Write(data)
	pad()
}

// goTool is the go command: $GO, else go from $PATH.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// SourceRoot finds the btfrecon module root: $BTFRECON_SRC, else the
// nearest directory above the working directory whose go.mod declares
// github.com/btfrecon/btfrecon.
func SourceRoot() (string, error) {
	if d := os.Getenv("BTFRECON_SRC"); d != "" {
		return d, nil
	}
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/btfrecon/btfrecon\n") {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("vm: cannot find the btfrecon source tree (run from inside it, or set BTFRECON_SRC): the guest test and the initramfs are built from it")
		}
		d = p
	}
}
