// Package oracle runs the libbpf oracles: our small C driver
// (harness/oracle/driver.c) linked against libbpf 1.5.0 from Debian's
// linux-source-6.12 (the default, V15: <cache>/oracle/btfrecon-oracle) or
// against libbpf 1.8.0 from Debian sid's linux-source-7.2 (V18:
// <cache>/oracle/btfrecon-oracle-1.8), both built by `make oracle`. Raw BTF
// bytes go in and out through temp files.
//
// The driver's protocol (see frame.h): exit 0 ok; exit 1 libbpf failed and
// stdout says "error <errno> <NAME>" with libbpf's WARN/INFO lines on stderr;
// exit 2 usage or I/O. In batch mode each command yields "log <text>" lines
// and then one result line: "ok", "error <errno> <NAME>" or "fail <message>".
//
// Where the two libbpf versions behave differently is pinned in
// versions_test.go.
package oracle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/btfrecon/btfrecon/harness/cache"
)

// Version names one libbpf oracle.
type Version string

const (
	V15 Version = "1.5" // libbpf 1.5.0, Debian linux-source-6.12 (6.12.117)
	V18 Version = "1.8" // libbpf 1.8.0, Debian sid linux-source-7.2 (7.2.13)

	// Default is the byte-exact reference of the contract (6.12's tree).
	Default = V15
)

// Versions lists every oracle, the default first.
var Versions = []Version{V15, V18}

// BinaryName is the default driver's file name under <cache>/oracle/.
const BinaryName = "btfrecon-oracle"

// BinaryName is v's driver file name under <cache>/oracle/.
func (v Version) BinaryName() string {
	if v == V15 {
		return BinaryName
	}
	return BinaryName + "-" + string(v)
}

// String is "libbpf 1.5" or "libbpf 1.8".
func (v Version) String() string { return "libbpf " + string(v) }

// Error is a libbpf failure: Errno is the negative errno libbpf returned
// (e.g. -22), Name its symbol ("EINVAL"), Log libbpf's WARN/INFO output and
// the driver's note on which step failed.
type Error struct {
	Errno int
	Name  string
	Log   string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("libbpf: error %d %s", e.Errno, e.Name)
	if l := strings.TrimSpace(e.Log); l != "" {
		msg += ": " + strings.ReplaceAll(l, "\n", "; ")
	}
	return msg
}

// Oracle runs one built driver binary. Version is empty for a driver
// started by path alone (e.g. the C core's, which speaks the same protocol).
type Oracle struct {
	Path    string
	Version Version
}

// Find returns the path of the default oracle (libbpf 1.5).
func Find() (string, error) { return Default.Find() }

// New returns the default oracle (libbpf 1.5).
func New() (*Oracle, error) { return Default.New() }

// Require returns the default oracle (libbpf 1.5) for a test; see
// Version.Require.
func Require(t testing.TB) *Oracle {
	t.Helper()
	return Default.Require(t)
}

// Find returns the path of v's built driver in the cache, or an error
// saying how to build it.
func (v Version) Find() (string, error) {
	if !v.known() {
		return "", fmt.Errorf("no libbpf oracle %q (have %v)", string(v), Versions)
	}
	dir, err := cache.Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "oracle", v.BinaryName())
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s oracle not built: run make oracle (%w)", v, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s oracle not built: run make oracle (%s is not an executable file)", v, p)
	}
	return p, nil
}

// New returns an Oracle for v's driver.
func (v Version) New() (*Oracle, error) {
	p, err := v.Find()
	if err != nil {
		return nil, err
	}
	return &Oracle{Path: p, Version: v}, nil
}

// Require returns v's oracle for a test, after checking that the driver
// says it is that libbpf ("libbpf 1.8 src ..."). A missing or wrong driver
// fails the test; only BTFRECON_NO_ORACLE=1 turns that into a skip.
func (v Version) Require(t testing.TB) *Oracle {
	t.Helper()
	if os.Getenv("BTFRECON_NO_ORACLE") == "1" {
		t.Skipf("BTFRECON_NO_ORACLE=1: %s oracle disabled", v)
	}
	o, err := v.New()
	if err != nil {
		t.Fatal(err) // "libbpf 1.8 oracle not built: run make oracle (...)"
	}
	if err := o.checkVersion(); err != nil {
		t.Fatal(err)
	}
	return o
}

// RequireAll returns every oracle (Versions order) for a test.
func RequireAll(t testing.TB) []*Oracle {
	t.Helper()
	all := make([]*Oracle, len(Versions))
	for i, v := range Versions {
		all[i] = v.Require(t)
	}
	return all
}

func (v Version) known() bool {
	for _, k := range Versions {
		if v == k {
			return true
		}
	}
	return false
}

var versionChecked sync.Map // path -> error

// checkVersion runs the driver's version verb once per path.
func (o *Oracle) checkVersion() error {
	if r, ok := versionChecked.Load(o.Path); ok {
		err, _ := r.(error)
		return err
	}
	var err error
	out, xerr := exec.Command(o.Path, "version").Output()
	if xerr != nil {
		err = fmt.Errorf("%s version: %v", o.Path, xerr)
	} else if !strings.HasPrefix(string(out), o.Version.String()+" ") {
		err = fmt.Errorf("%s says %q, want %s: run make oracle", o.Path, strings.TrimSpace(string(out)), o.Version)
	}
	versionChecked.Store(o.Path, err)
	return err
}

// Name is the oracle's label in reports: "libbpf 1.5", or the path.
func (o *Oracle) Name() string {
	if o.Version != "" {
		return o.Version.String()
	}
	return o.Path
}

// Distill runs btf__distill_base on split (raw split BTF on base) and
// returns the raw distilled base and the raw new split.
func (o *Oracle) Distill(base, split []byte) (distilled, newSplit []byte, err error) {
	dir, err := os.MkdirTemp("", "btfrecon-oracle-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	in := []string{filepath.Join(dir, "base"), filepath.Join(dir, "split")}
	out := []string{filepath.Join(dir, "distilled"), filepath.Join(dir, "new-split")}
	if err := writeFiles(in, base, split); err != nil {
		return nil, nil, err
	}
	if err := o.run("distill", in[0], in[1], out[0], out[1]); err != nil {
		return nil, nil, err
	}
	return readPair(out[0], out[1])
}

// Relocate runs btf__relocate of split (on distilled) onto target and
// returns the raw relocated split.
func (o *Oracle) Relocate(distilled, split, target []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "btfrecon-oracle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := []string{filepath.Join(dir, "distilled"), filepath.Join(dir, "split"), filepath.Join(dir, "target")}
	out := filepath.Join(dir, "out")
	if err := writeFiles(in, distilled, split, target); err != nil {
		return nil, err
	}
	if err := o.run("relocate", in[0], in[1], in[2], out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

func (o *Oracle) run(args ...string) error {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(o.Path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		if e := parseError(strings.TrimSpace(stdout.String()), stderr.String()); e != nil {
			return e
		}
		return fmt.Errorf("%s %s: exit 1 without an error line: %q %q", o.Path, args[0], stdout.String(), stderr.String())
	default:
		return fmt.Errorf("%s %s: %v: %s", o.Path, args[0], err, strings.TrimSpace(stderr.String()))
	}
}

// parseError reads "error <errno> <NAME>"; nil if line is not one.
func parseError(line, log string) *Error {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "error" {
		return nil
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return nil
	}
	return &Error{Errno: n, Name: f[2], Log: log}
}

func writeFiles(paths []string, data ...[]byte) error {
	for i, p := range paths {
		if err := os.WriteFile(p, data[i], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func readPair(a, b string) ([]byte, []byte, error) {
	x, err := os.ReadFile(a)
	if err != nil {
		return nil, nil, err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// Batch keeps one driver process (batch mode) for many operations. Base and
// target BTF are written once per distinct content so the driver can keep
// them parsed between commands. Methods are safe for concurrent use but run
// one at a time. After a protocol or process failure every call fails.
type Batch struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
	dir    string
	seq    int
	shared map[[32]byte]string // content hash -> file of a base/target
	// recent skips hashing a multi-megabyte base again when the caller
	// passes the very same slice (same backing array and length) again.
	recent []sharedSlice
	broken error
}

// maxShared bounds how many distinct base/target files a batch keeps.
const maxShared = 16

// NewBatch starts the driver in batch mode.
func (o *Oracle) NewBatch() (*Batch, error) {
	dir, err := os.MkdirTemp("", "btfrecon-oracle-batch-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Path, "batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stderr := new(lockedBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Batch{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: stderr,
		dir: dir, shared: map[[32]byte]string{}}, nil
}

// Close ends the driver process and removes the batch's temp files.
func (b *Batch) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return nil
	}
	b.stdin.Close()
	err := b.cmd.Wait()
	b.cmd = nil
	if b.broken == nil {
		b.broken = errors.New("oracle batch closed")
	}
	if rerr := os.RemoveAll(b.dir); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("oracle batch: %v: %s", err, strings.TrimSpace(b.stderr.String()))
	}
	return nil
}

// Distill is Oracle.Distill through the batch process.
func (b *Batch) Distill(base, split []byte) (distilled, newSplit []byte, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken != nil {
		return nil, nil, b.broken
	}
	basePath, err := b.sharedFile(base)
	if err != nil {
		return nil, nil, err
	}
	p := b.files("split", "distilled", "new-split")
	defer removeAll(p)
	if err := os.WriteFile(p[0], split, 0o644); err != nil {
		return nil, nil, err
	}
	if err := b.do("distill", basePath, p[0], p[1], p[2]); err != nil {
		return nil, nil, err
	}
	return readPair(p[1], p[2])
}

// Relocate is Oracle.Relocate through the batch process.
func (b *Batch) Relocate(distilled, split, target []byte) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken != nil {
		return nil, b.broken
	}
	targetPath, err := b.sharedFile(target)
	if err != nil {
		return nil, err
	}
	p := b.files("distilled", "split", "out")
	defer removeAll(p)
	if err := writeFiles(p[:2], distilled, split); err != nil {
		return nil, err
	}
	if err := b.do("relocate", p[0], p[1], targetPath, p[2]); err != nil {
		return nil, err
	}
	return os.ReadFile(p[2])
}

func (b *Batch) files(names ...string) []string {
	b.seq++
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(b.dir, fmt.Sprintf("%d-%s", b.seq, n))
	}
	return out
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// sharedFile returns a file holding data, written once per distinct content.
type sharedSlice struct {
	ptr  *byte
	n    int
	path string
}

func (b *Batch) sharedFile(data []byte) (string, error) {
	if len(data) == 0 {
		return b.sharedFileByHash(data)
	}
	for _, r := range b.recent {
		if r.ptr == &data[0] && r.n == len(data) {
			if _, err := os.Stat(r.path); err == nil {
				return r.path, nil
			}
		}
	}
	p, err := b.sharedFileByHash(data)
	if err == nil {
		if len(b.recent) == 4 {
			b.recent = b.recent[1:]
		}
		b.recent = append(b.recent, sharedSlice{&data[0], len(data), p})
	}
	return p, err
}

func (b *Batch) sharedFileByHash(data []byte) (string, error) {
	h := sha256.Sum256(data)
	if p, ok := b.shared[h]; ok {
		return p, nil
	}
	if len(b.shared) >= maxShared {
		for k, p := range b.shared {
			os.Remove(p)
			delete(b.shared, k)
		}
	}
	p := filepath.Join(b.dir, "shared-"+hex.EncodeToString(h[:8]))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", err
	}
	b.shared[h] = p
	return p, nil
}

// do sends one command and reads its log lines and result line.
func (b *Batch) do(args ...string) error {
	for _, a := range args {
		if strings.ContainsAny(a, " \t\r\n") {
			return fmt.Errorf("oracle batch: path with blanks: %q", a)
		}
	}
	if _, err := io.WriteString(b.stdin, strings.Join(args, " ")+"\n"); err != nil {
		return b.fail(err)
	}
	var log strings.Builder
	for {
		line, err := b.stdout.ReadString('\n')
		if err != nil {
			return b.fail(err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "log "):
			log.WriteString(line[len("log "):])
			log.WriteByte('\n')
		case line == "ok":
			return nil
		case strings.HasPrefix(line, "error "):
			if e := parseError(line, log.String()); e != nil {
				return e
			}
			return b.fail(fmt.Errorf("bad result line %q", line))
		case strings.HasPrefix(line, "fail "):
			return fmt.Errorf("oracle batch %s: %s", args[0], line[len("fail "):])
		default:
			return b.fail(fmt.Errorf("bad result line %q", line))
		}
	}
}

func (b *Batch) fail(err error) error {
	b.broken = fmt.Errorf("oracle batch broken: %v: %s", err, strings.TrimSpace(b.stderr.String()))
	return b.broken
}

// lockedBuffer collects the batch process's stderr; exec copies into it from
// its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
