package kernels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/btfrecon/btfrecon/vmimages"
)

// The private apt configuration: one per suite, under $CACHE/apt/<suite>/.
// The machine's /etc/apt sources, lists, dpkg status and pins are neither
// read nor changed (its apt.conf.d is, for proxies and the like, as apt reads
// it before a -c file); no foreign architecture is added to dpkg. Layout:
//
//	apt.conf       the configuration, given to apt-get/apt-cache with -c
//	sources.list   the suite's distributions, main, amd64 and arm64
//	status         empty: this apt has nothing installed
//	lists/         Dir::State::Lists (apt-get update)
//	cache/         Dir::Cache (pkgcache.bin, kept: a look-up then takes
//	               ~0.5 s instead of ~2 s; archives/partial)
//	updated        written after each successful apt-get update
//	.lock          flock: exclusive around update, shared around look-ups

const (
	// DefaultMirror is the Debian mirror of the private apt configuration.
	DefaultMirror = "http://deb.debian.org/"
	// DefaultKeyring verifies the archive's Release files (package
	// debian-archive-keyring).
	DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	// freshLists is how old the lists may be before a look-up that misses
	// runs apt-get update again.
	freshLists = 10 * time.Minute
)

// aptArches are the Debian architectures the private lists cover.
var aptArches = []string{"amd64", "arm64"}

// ErrApt is an apt command that failed; the message has its output.
var ErrApt = errors.New("apt failed")

// RunFunc runs an apt command (apt-get, apt-cache) in dir and returns its
// standard output and error. Tests substitute recorded answers.
type RunFunc func(ctx context.Context, dir, name string, args ...string) (stdout, stderr []byte, err error)

func execRun(ctx context.Context, dir, name string, args ...string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// privateApt is one suite's private apt configuration.
type privateApt struct {
	dir     string
	suite   vmimages.Suite
	mirror  string
	keyring string
	run     RunFunc
	logf    func(format string, args ...any)
	// updated is set once this process ran apt-get update for the suite: a
	// second miss does not update again.
	updated bool
	ready   bool
}

func (a *privateApt) conf() string { return filepath.Join(a.dir, "apt.conf") }

// sourcesList is the suite's sources.list: every distribution, main only,
// Packages indexes only, for amd64 and arm64.
func (a *privateApt) sourcesList() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# btfrecon: Debian %s (harness/kernels writes this file)\n", a.suite.Name)
	for _, d := range a.suite.Dists {
		fmt.Fprintf(&b, "deb [signed-by=%s arch=%s target=Packages] %s%s %s main\n",
			a.keyring, strings.Join(aptArches, ","), a.mirror, d.Archive, d.Name)
	}
	return b.String()
}

func (a *privateApt) aptConf() string {
	q := func(p string) string { return `"` + p + `"` }
	var b strings.Builder
	fmt.Fprintf(&b, "// btfrecon's private apt configuration for Debian %s (harness/kernels\n", a.suite.Name)
	b.WriteString("// writes this file): used as apt-get -c / apt-cache -c; the machine's\n")
	b.WriteString("// sources, lists, dpkg status and pins are not used.\n")
	for _, kv := range [][2]string{
		{"Dir::Etc::sourcelist", q(filepath.Join(a.dir, "sources.list"))},
		{"Dir::Etc::sourceparts", q("/dev/null")},
		{"Dir::Etc::preferences", q("/dev/null")},
		{"Dir::Etc::preferencesparts", q("/dev/null")},
		{"Dir::State::Lists", q(filepath.Join(a.dir, "lists"))},
		{"Dir::State::status", q(filepath.Join(a.dir, "status"))},
		{"Dir::State::extended_states", q(filepath.Join(a.dir, "extended_states"))},
		{"Dir::Cache", q(filepath.Join(a.dir, "cache"))},
		{"Dir::Cache::pkgcache", q("pkgcache.bin")},
		{"Dir::Cache::srcpkgcache", q("")}, // a second ~60 MB copy that look-ups do not need
		{"APT::Architecture", q(aptArches[0])},
		{"Acquire::Languages", q("none")},
	} {
		fmt.Fprintf(&b, "%s %s;\n", kv[0], kv[1])
	}
	b.WriteString("#clear APT::Architectures;\nAPT::Architectures {")
	for _, arch := range aptArches {
		fmt.Fprintf(&b, " %q;", arch)
	}
	b.WriteString(" };\n")
	// Hooks of the machine's apt.conf.d (appstream, packagekit, docker-clean)
	// act on the machine's state: not for this configuration.
	for _, hook := range []string{"APT::Update::Pre-Invoke", "APT::Update::Post-Invoke", "APT::Update::Post-Invoke-Success", "DPkg::Pre-Invoke", "DPkg::Post-Invoke"} {
		fmt.Fprintf(&b, "#clear %s;\n", hook)
	}
	return b.String()
}

// setup writes the configuration files and directories (idempotent).
func (a *privateApt) setup() error {
	if a.ready {
		return nil
	}
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), 0o755); err != nil {
			return fmt.Errorf("private apt (%s): %w", a.suite.Name, err)
		}
	}
	for name, body := range map[string]string{"apt.conf": a.aptConf(), "sources.list": a.sourcesList()} {
		p := filepath.Join(a.dir, name)
		if b, err := os.ReadFile(p); err == nil && string(b) == body {
			continue
		}
		if err := writeFileAtomic(p, []byte(body)); err != nil {
			return fmt.Errorf("private apt (%s): %w", a.suite.Name, err)
		}
	}
	os.Remove(filepath.Join(a.dir, "cache", "srcpkgcache.bin")) // written by earlier configurations
	status := filepath.Join(a.dir, "status")
	if _, err := os.Stat(status); err != nil {
		if err := writeFileAtomic(status, nil); err != nil {
			return fmt.Errorf("private apt (%s): %w", a.suite.Name, err)
		}
	}
	a.ready = true
	return nil
}

// lock takes the configuration's flock (exclusive or shared) and returns
// its release.
func (a *privateApt) lock(exclusive bool) (func(), error) {
	fd, err := os.OpenFile(filepath.Join(a.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := unix.Flock(int(fd.Fd()), how); err != nil {
		fd.Close()
		return nil, fmt.Errorf("lock %s: %w", fd.Name(), err)
	}
	return func() { fd.Close() }, nil
}

// listsPresent reports whether every distribution's Packages index is in
// the lists, for both architectures.
func (a *privateApt) listsPresent() bool {
	for _, d := range a.suite.Dists {
		for _, arch := range aptArches {
			m, _ := filepath.Glob(filepath.Join(a.dir, "lists", "*_dists_"+d.Name+"_main_binary-"+arch+"_Packages*"))
			if len(m) == 0 {
				return false
			}
		}
	}
	return true
}

// stale reports whether a look-up that missed may update the lists: not
// twice in one process, and not when they were updated moments ago.
func (a *privateApt) stale() bool {
	if a.updated {
		return false
	}
	st, err := os.Stat(filepath.Join(a.dir, "updated"))
	return err != nil || time.Since(st.ModTime()) > freshLists
}

// cmd runs apt-get or apt-cache with the private configuration.
func (a *privateApt) cmd(ctx context.Context, dir, name string, args ...string) ([]byte, []byte, error) {
	if err := a.setup(); err != nil {
		return nil, nil, err
	}
	run := a.run
	if run == nil {
		run = execRun
	}
	return run(ctx, dir, name, append([]string{"-c", a.conf()}, args...)...)
}

// ensureLists runs apt-get update when the lists are missing.
func (a *privateApt) ensureLists(ctx context.Context) error {
	if err := a.setup(); err != nil {
		return err
	}
	if a.listsPresent() {
		return nil
	}
	return a.update(ctx, "no lists yet")
}

// update runs apt-get update on the private lists.
func (a *privateApt) update(ctx context.Context, why string) error {
	if err := a.setup(); err != nil {
		return err
	}
	unlock, err := a.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	a.logf("apt-get update: Debian %s, private lists in %s (%s)", a.suite.Name, filepath.Join(a.dir, "lists"), why)
	start := time.Now()
	out, errb, err := a.cmd(ctx, a.dir, "apt-get", "-q", "update")
	a.updated = true
	if err != nil {
		return fmt.Errorf("%w: apt-get update (Debian %s, %s): %v\n%s", ErrApt, a.suite.Name, a.conf(), err, aptOutput(out, errb))
	}
	if !a.listsPresent() {
		return fmt.Errorf("%w: apt-get update (Debian %s) left no Packages lists in %s\n%s", ErrApt, a.suite.Name, filepath.Join(a.dir, "lists"), aptOutput(out, errb))
	}
	if err := writeFileAtomic(filepath.Join(a.dir, "updated"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n")); err != nil {
		return err
	}
	a.logf("  updated in %.1fs", time.Since(start).Seconds())
	return nil
}

// show returns the index stanzas of specs (name:arch, or name:arch=version),
// apt's candidate version of each; a spec the lists do not know is simply
// absent from the result.
func (a *privateApt) show(ctx context.Context, specs []string) ([]IndexEntry, error) {
	if err := a.setup(); err != nil {
		return nil, err
	}
	unlock, err := a.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out, errb, err := a.cmd(ctx, a.dir, "apt-cache", append([]string{"-q", "show", "--no-all-versions"}, specs...)...)
	if err != nil {
		// apt-cache exits 100 with "E: No packages found" when it knows none
		// of them: that is an answer, not a failure.
		if bytes.Contains(errb, []byte("No packages found")) && len(bytes.TrimSpace(out)) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: apt-cache show %s (Debian %s): %v\n%s", ErrApt, strings.Join(specs, " "), a.suite.Name, err, aptOutput(out, errb))
	}
	return ParseIndex("apt-cache show (Debian "+a.suite.Name+")", out)
}

// search returns the names of packages matching a regular expression.
func (a *privateApt) search(ctx context.Context, pattern string) ([]string, error) {
	unlock, err := a.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out, errb, err := a.cmd(ctx, a.dir, "apt-cache", "-q", "search", "--names-only", pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: apt-cache search %s (Debian %s): %v\n%s", ErrApt, pattern, a.suite.Name, err, aptOutput(out, errb))
	}
	return ParseSearch(out), nil
}

// download runs apt-get download spec in dir.
func (a *privateApt) download(ctx context.Context, spec, dir string) error {
	unlock, err := a.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	out, errb, err := a.cmd(ctx, dir, "apt-get", "-q", "download", spec)
	if err != nil {
		return fmt.Errorf("%w: apt-get download %s (Debian %s): %v\n%s", ErrApt, spec, a.suite.Name, err, aptOutput(out, errb))
	}
	return nil
}

// aptOutput is apt's output for an error message, without the sandbox
// warning every root download into a private directory gets.
func aptOutput(out, errb []byte) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)+"\n"+string(errb)), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "performed unsandboxed") {
			keep = append(keep, "  "+l)
		}
	}
	return strings.Join(keep, "\n")
}
