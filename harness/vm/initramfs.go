package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
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
const initramfsRecipe = "btfrecon-initramfs v1: u-root init + vmtest shutdownafter/vmmount/gouinit + test2json"

// GuestTestTimeout bounds the guest test binary (gouinit kills it after
// that). The host's boot timeout is what really bounds a run.
const GuestTestTimeout = 60 * time.Minute

// BuildInitramfs returns a u-root initramfs for kernel k: u-root's init,
// vmtest's shutdownafter, vmmount and gouinit, test2json, and k's 9p
// modules uncompressed as /lib/modules/0N-<name>.ko. It is built once per
// (kernel, module bytes, go.sum, recipe) and cached under
// $CACHE/initramfs/. src is the btfrecon module root: the u-root and vmtest
// commands are built in its module context.
func BuildInitramfs(ctx context.Context, k *kernels.Kernel, src string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	var mods [][]byte
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", initramfsRecipe, k.Arch)
	for _, name := range NinePModules {
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
		p := filepath.Join(tmp, name+".ko")
		if err := os.WriteFile(p, mods[i], 0o644); err != nil {
			return "", err
		}
		files = append(files, fmt.Sprintf("%s:lib/modules/%02d-%s.ko", p, i+1, name))
	}
	cpio := filepath.Join(tmp, "initramfs.cpio")
	l := llog.New(slog.LevelError, func(format string, args ...any) { fmt.Fprintf(progress, "vm: u-root: "+format+"\n", args...) })
	err = uimage.Create(l,
		uimage.WithEnv(golang.DisableCGO(), golang.WithGOARCH(k.Arch), golang.WithWorkingDir(src)),
		uimage.WithTempDir(tmp),
		uimage.WithCPIOOutput(cpio),
		uimage.WithBusyboxCommands(
			"github.com/u-root/u-root/cmds/core/init",
			"github.com/hugelgupf/vmtest/vminit/shutdownafter",
			"github.com/hugelgupf/vmtest/vminit/vmmount",
			"github.com/hugelgupf/vmtest/vminit/gouinit",
		),
		uimage.WithBinaryCommands("cmd/test2json"),
		uimage.WithInit("init"),
		uimage.WithUinit("shutdownafter", "--", "vmmount", "--", "gouinit", "-test_timeout="+GuestTestTimeout.String()),
		uimage.WithFiles(files...),
	)
	if err != nil {
		return "", fmt.Errorf("initramfs for %s: %w", k, err)
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
// for arch into out, the way vmtest's gouinit finds it (a *.test file
// under <share>/tests/).
func GuestTest(ctx context.Context, src, arch, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	cmd := exec.CommandContext(ctx, gobin, "test", "-c", "-tags", "vmguest", "-trimpath", "-o", out, "./gotest")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling the guest test for %s: %w\n%s", arch, err, b)
	}
	return nil
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
