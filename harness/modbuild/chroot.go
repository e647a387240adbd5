package modbuild

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/btfrecon/btfrecon/harness/cache"
)

// DefaultMirror is the Debian archive the chroots are bootstrapped from.
const DefaultMirror = "http://deb.debian.org/debian"

// chrootLayout versions how a chroot is put together; bump it when Ensure
// changes what it installs, so old chroots are not reused.
const chrootLayout = 1

// completeFile marks a finished chroot; it holds the spec's description.
const completeFile = ".btfrecon-chroot"

// setupFile records how long the set-up took and how big the chroot is.
const setupFile = ".btfrecon-setup"

// ErrInterrupted: a chroot set-up was cut short (killed, cancelled); what it
// left is thrown away on the next run, which starts over.
var ErrInterrupted = errors.New("chroot set-up interrupted")

// Deb is a package installed into the chroot from a file (the kernel's
// headers, as harness/kernels fetched them), checked against its sha256.
type Deb struct {
	Path   string
	SHA256 string
}

// ChrootSpec is one userland: a suite bootstrapped from Mirror with Include
// (and what they depend on), then Debs installed with dpkg.
type ChrootSpec struct {
	Suite   string // "trixie", "sid"
	Mirror  string // DefaultMirror when empty
	Include []string
	Debs    []Deb
	// ForeignArch is added to dpkg's architectures before Debs are
	// installed ("arm64" for a cross build's headers), "" for none.
	ForeignArch string
}

func (s ChrootSpec) mirror() string {
	if s.Mirror == "" {
		return DefaultMirror
	}
	return s.Mirror
}

// Describe is the spec as text: what the chroot's key hashes, and what
// its completion marker holds.
func (s ChrootSpec) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "layout %d\nsuite %s\nmirror %s\nvariant minbase\n", chrootLayout, s.Suite, s.mirror())
	inc := slices.Clone(s.Include)
	slices.Sort(inc)
	inc = slices.Compact(inc)
	fmt.Fprintf(&b, "include %s\n", strings.Join(inc, ","))
	if s.ForeignArch != "" {
		fmt.Fprintf(&b, "foreign-arch %s\n", s.ForeignArch)
	}
	for _, d := range s.Debs {
		fmt.Fprintf(&b, "deb %s %s\n", filepath.Base(d.Path), d.SHA256)
	}
	return b.String()
}

// Key is the chroot's directory name: the suite and a hash of Describe.
func (s ChrootSpec) Key() string {
	sum := sha256.Sum256([]byte(s.Describe()))
	return s.Suite + "-" + hex.EncodeToString(sum[:6])
}

// Chroot is a complete chroot.
type Chroot struct {
	Dir  string
	Spec ChrootSpec
	// Built says this call made it; SetupTime and Size are those of the
	// set-up, whenever it happened (0 when not recorded).
	Built     bool
	SetupTime time.Duration
	Size      int64
}

// Ensure returns the chroot for spec under cacheDir/chroot, building it
// first if it is not there. Concurrent callers wait for one another (a lock
// file beside it); what an interrupted set-up left behind is removed, with a
// line on log, and the set-up starts over.
func Ensure(ctx context.Context, cacheDir string, spec ChrootSpec, log io.Writer) (*Chroot, error) {
	if log == nil {
		log = io.Discard
	}
	parent := filepath.Join(cacheDir, "chroot")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	key := spec.Key()
	dir := filepath.Join(parent, key)
	if c, ok := complete(dir, spec); ok {
		return c, nil
	}
	unlock, err := cache.Lock(filepath.Join(parent, "."+key+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c, ok := complete(dir, spec); ok { // built while we waited
		return c, nil
	}
	stale, _ := filepath.Glob(filepath.Join(parent, "."+key+".tmp-*"))
	if _, err := os.Lstat(dir); err == nil {
		stale = append(stale, dir) // no marker, or another spec's: not ours to trust
	}
	for _, p := range stale {
		fmt.Fprintf(log, "chroot: removing %s, left by an interrupted set-up; starting over\n", p)
		if err := removeTree(p); err != nil {
			return nil, err
		}
	}
	for _, d := range spec.Debs {
		if err := checkDeb(d); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(parent, "."+key+".tmp-")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := bootstrap(ctx, parent, tmp, spec, log); err != nil {
		if rerr := removeTree(tmp); rerr != nil {
			fmt.Fprintf(log, "chroot: %v\n", rerr)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("chroot %s: %w (%v); the next run starts over", key, ErrInterrupted, ctx.Err())
		}
		return nil, fmt.Errorf("chroot %s: %w", key, err)
	}
	took := time.Since(start)
	size, err := treeSize(tmp)
	if err != nil {
		return nil, err
	}
	setup := fmt.Sprintf("seconds %.1f\nbytes %d\nbuilt %s\n", took.Seconds(), size, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(tmp, setupFile), []byte(setup), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, completeFile), []byte(spec.Describe()), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "chroot: %s ready: set up in %.0f s, %d MB\n", dir, took.Seconds(), size>>20)
	return &Chroot{Dir: dir, Spec: spec, Built: true, SetupTime: took, Size: size}, nil
}

// complete returns the chroot at dir if its marker says it was built for spec.
func complete(dir string, spec ChrootSpec) (*Chroot, bool) {
	b, err := os.ReadFile(filepath.Join(dir, completeFile))
	if err != nil || string(b) != spec.Describe() {
		return nil, false
	}
	c := &Chroot{Dir: dir, Spec: spec}
	if s, err := os.ReadFile(filepath.Join(dir, setupFile)); err == nil {
		for _, line := range strings.Split(string(s), "\n") {
			k, v, _ := strings.Cut(line, " ")
			switch k {
			case "seconds":
				f, _ := strconv.ParseFloat(v, 64)
				c.SetupTime = time.Duration(f * float64(time.Second))
			case "bytes":
				c.Size, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return c, true
}

// bootstrap builds spec into tmp: debootstrap, then the foreign
// architecture, then the .debs. A variable for tests.
var bootstrap = debootstrap

func debootstrap(ctx context.Context, parent, tmp string, spec ChrootSpec, log io.Writer) error {
	cache := filepath.Join(parent, "debootstrap-cache", spec.Suite)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	inc := slices.Clone(spec.Include)
	slices.Sort(inc)
	inc = slices.Compact(inc)
	fmt.Fprintf(log, "chroot: debootstrap %s into %s (once; a few minutes)\n", spec.Suite, tmp)
	args := []string{"debootstrap", "--variant=minbase", "--cache-dir=" + cache}
	if len(inc) > 0 {
		args = append(args, "--include="+strings.Join(inc, ","))
	}
	args = append(args, spec.Suite, tmp, spec.mirror())
	if out, err := runIsolated(ctx, "", args...); err != nil {
		return fmt.Errorf("debootstrap %s: %w\n%s", spec.Suite, err, lastLines(out, 20))
	}
	if spec.ForeignArch != "" {
		if out, err := runIsolated(ctx, tmp, "dpkg", "--add-architecture", spec.ForeignArch); err != nil {
			return fmt.Errorf("dpkg --add-architecture %s: %w\n%s", spec.ForeignArch, err, lastLines(out, 10))
		}
	}
	if len(spec.Debs) == 0 {
		return nil
	}
	inside := filepath.Join(tmp, "var", "cache", "btfrecon-debs")
	if err := os.MkdirAll(inside, 0o755); err != nil {
		return err
	}
	// unsafe-io: no fsync per file (a chroot that is thrown away if
	// interrupted); headers-common is thousands of small files.
	dpkg := []string{"dpkg", "-i", "--force-depends", "--force-unsafe-io"}
	for _, d := range spec.Debs {
		dst := filepath.Join(inside, filepath.Base(d.Path))
		if out, err := exec.CommandContext(ctx, "cp", "--", d.Path, dst).CombinedOutput(); err != nil {
			return fmt.Errorf("cp %s: %w\n%s", d.Path, err, out)
		}
		dpkg = append(dpkg, "/var/cache/btfrecon-debs/"+filepath.Base(d.Path))
	}
	fmt.Fprintf(log, "chroot: dpkg -i %d kernel packages\n", len(spec.Debs))
	if out, err := runIsolated(ctx, tmp, dpkg...); err != nil {
		return fmt.Errorf("dpkg -i: %w\n%s", err, lastLines(out, 20))
	}
	return os.RemoveAll(inside)
}

// runIsolated runs argv in a private mount and PID namespace (unshare), so
// that whatever it mounts (debootstrap's /proc and /sys, our /proc) goes
// away with it, and so do its processes, even when we are killed: unshare
// dies with us (Pdeathsig), its child with it (--kill-child), and the
// kernel kills the rest of the PID namespace with that child. With root
// set, /proc is mounted there and argv runs chrooted into it with a clean
// environment. The whole process group is killed when ctx ends.
func runIsolated(ctx context.Context, root string, argv ...string) ([]byte, error) {
	script := `exec "$@"`
	args := []string{"--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--", "/bin/sh", "-c"}
	if root != "" {
		script = `root=$1; shift; mount -t proc proc "$root/proc" && exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"`
		args = append(args, script, "sh", root)
	} else {
		args = append(args, script, "sh")
	}
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if root == "" {
		cmd.Env = append(os.Environ(), "LC_ALL=C")
	}
	return cmd.CombinedOutput()
}

// removeTree removes a chroot tree, refusing when something is mounted
// under it (a host /dev or /proc bound in would be emptied).
func removeTree(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if m := mountsUnder(abs); len(m) > 0 {
		return fmt.Errorf("%s: not removed: %s mounted inside (umount first)", abs, strings.Join(m, ", "))
	}
	return os.RemoveAll(abs)
}

// mountsUnder lists the mount points at or under dir (from /proc/self/mountinfo).
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkDeb verifies a .deb against its sha256.
func checkDeb(d Deb) error {
	f, err := os.Open(d.Path)
	if err != nil {
		return fmt.Errorf("%s: %w (harness/kernels keeps the .debs it fetched in $CACHE/debs: btfrecon kernels fetch R --headers)", d.Path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", d.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
		return fmt.Errorf("%s: sha256 %s, the catalog says %s", d.Path, got, d.SHA256)
	}
	return nil
}

// treeSize is the bytes the regular files under dir take (hard links once).
func treeSize(dir string) (int64, error) {
	var n int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n, err
}

// lastLines is the last n lines of out, for an error message.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
