package kbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTree is a tiny tree with a kernel's shape whose Makefile does what
// kbuild's targets do to O= (tinyconfig, olddefconfig, bzImage, modules)
// in a few lines: olddefconfig drops CONFIG_DROPPED (a symbol this tree
// lacks), and the build fails when .config holds CONFIG_BREAK=y.
func fakeTree(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dir := filepath.Join(t.TempDir(), "linux")
	writeTree(t, dir, map[string]string{
		"Kconfig":                "",
		"kernel/bpf/btf.c":       "int btf;\n",
		"arch/x86/Kconfig":       "",
		"arch/arm64/Kconfig":     "",
		"kernel/bpf/Makefile":    "",
		"scripts/kconfig/x.c":    "",
		"include/linux/module.h": "struct module;\n",
		"Makefile": `VERSION = 7
PATCHLEVEL = 2
SUBLEVEL = 13
tinyconfig:
	mkdir -p $(O) && printf 'CONFIG_64BIT=y\n# CONFIG_BPF is not set\n' > $(O)/.config
olddefconfig:
	grep -v '^CONFIG_DROPPED=' $(O)/.config > $(O)/.config.new; mv $(O)/.config.new $(O)/.config
bzImage Image:
	! grep -q '^CONFIG_BREAK=y' $(O)/.config || { echo 'kernel/bpf/btf.c:1:2: error: broken'; exit 1; }
	mkdir -p $(O)/arch/x86/boot $(O)/arch/arm64/boot
	cat $(O)/.config kernel/bpf/btf.c > $(O)/vmlinux
	cp $(O)/vmlinux $(O)/arch/x86/boot/bzImage; cp $(O)/vmlinux $(O)/arch/arm64/boot/Image
	echo "$$(date +%s%N) $@" >> $(O)/built.txt
modules:
	touch $(O)/Module.symvers
`,
		"scripts/kconfig/merge_config.sh": `#!/bin/sh
# -m -O OUT BASE FRAG...: append the fragments (the last line wins in the fake)
shift; shift; out=$1; shift; base=$1; shift
for f in "$@"; do grep -v '^#' "$f" | grep . >> "$base"; done
for f in "$@"; do grep '^# CONFIG_.* is not set' "$f" | while read -r _ o _; do grep -v "^$o=" "$base" > "$base.n"; mv "$base.n" "$base"; done; done
`,
	})
	os.Chmod(filepath.Join(dir, "scripts/kconfig/merge_config.sh"), 0o755)
	age(t, dir)
	// the toolchain as kbuild looks it up: fakes printing a version
	bin := t.TempDir()
	for _, n := range []string{"gcc", "ld", "pahole", "flex", "bison", "bc", "aarch64-linux-gnu-gcc", "aarch64-linux-gnu-ld"} {
		os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\necho '"+n+" 1.0'\n"), 0o755)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return dir
}

func fragment(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "frag.config")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildCachedAndSeeded(t *testing.T) {
	tree := fakeTree(t)
	cache := t.TempDir()
	bl := &Builder{Cache: cache}
	frag := fragment(t, "CONFIG_BPF=y\n")
	a, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Fragments: []string{frag}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Cached || a.Seed != "" || a.Version != "7.2.13" {
		t.Errorf("first build: cached %v seed %q version %q; want fresh, no seed, 7.2.13", a.Cached, a.Seed, a.Version)
	}
	vml, _ := os.ReadFile(filepath.Join(a.Dir, "vmlinux"))
	if !strings.Contains(string(vml), "CONFIG_BPF=y") {
		t.Errorf("vmlinux of the fake is not built from the fragment's config:\n%s", vml)
	}
	// the same spec again: cached, not rebuilt
	again, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Fragments: []string{frag}})
	if err != nil || !again.Cached || again.Dir != a.Dir {
		t.Fatalf("second build: %+v, %v; want the cached %s", again, err, a.Dir)
	}
	// a second config starts from a's objects
	other := fragment(t, "CONFIG_IO_URING=y\n")
	b, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Fragments: []string{frag, other}}, a)
	if err != nil {
		t.Fatal(err)
	}
	if b.Key == a.Key || b.Seed != a.Key {
		t.Errorf("other: key %s (a %s), seed %q; want a new key seeded from a", b.Key, a.Key, b.Seed)
	}
	built, _ := os.ReadFile(filepath.Join(b.Dir, "built.txt"))
	if n := strings.Count(string(built), "bzImage"); n != 2 {
		t.Errorf("other's built.txt has %d builds, want 2 (a's copied, then its own):\n%s", n, built)
	}
	// an edit: a new key, seeded from the newest build of the same config
	os.WriteFile(filepath.Join(tree, "kernel/bpf/btf.c"), []byte("int btf2;\n"), 0o644)
	c, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Fragments: []string{frag}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Key == a.Key || c.Seed != a.Key || c.TreeHash == a.TreeHash {
		t.Errorf("after edit: key %s seed %q; want a new key seeded from %s", c.Key, c.Seed, a.Key)
	}
	// the arch is in the key
	_, d, err := bl.Prepare(Spec{Tree: tree, Arch: "arm64", Fragments: []string{frag}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Key == a.Key || d.ConfigKey == a.ConfigKey {
		t.Errorf("arm64 has amd64's key %s", d.Key)
	}
}

func TestBuildErrors(t *testing.T) {
	tree := fakeTree(t)
	notTree := t.TempDir()
	os.WriteFile(filepath.Join(notTree, "Makefile"), []byte("all:\n"), 0o644)
	junk := filepath.Join(t.TempDir(), "linux.txt")
	os.WriteFile(junk, []byte("x"), 0o644)
	goodPatch := filepath.Join(t.TempDir(), "0001-good.patch")
	os.WriteFile(goodPatch, []byte("Subject: [PATCH] good\n\n---\ndiff --git a/kernel/bpf/btf.c b/kernel/bpf/btf.c\n--- a/kernel/bpf/btf.c\n+++ b/kernel/bpf/btf.c\n@@ -1 +1 @@\n-int btf;\n+int btf_patched;\n-- \n2.39\n"), 0o644)
	badPatch := filepath.Join(t.TempDir(), "0002-bad.patch")
	os.WriteFile(badPatch, []byte("diff --git a/include/linux/module.h b/include/linux/module.h\n--- a/include/linux/module.h\n+++ b/include/linux/module.h\n@@ -1 +1 @@\n-struct modulex;\n+struct module2;\n"), 0o644)
	for _, tc := range []struct {
		name    string
		spec    Spec
		is      error
		mention []string
	}{
		{"not a tree", Spec{Tree: notTree, Arch: "amd64"}, ErrNotKernelTree, []string{notTree, "has no Kconfig"}},
		{"missing", Spec{Tree: notTree + "/nope", Arch: "amd64"}, ErrNotKernelTree, []string{"nope"}},
		{"a file", Spec{Tree: junk, Arch: "amd64"}, ErrNotKernelTree, []string{"not a tarball"}},
		{"bad patch", Spec{Tree: tree, Arch: "amd64", Patches: []string{goodPatch, badPatch}}, ErrPatch,
			[]string{badPatch, "include/linux/module.h: Hunk #1 FAILED at 1"}},
		{"fragment", Spec{Tree: tree, Arch: "amd64", Fragments: []string{fragment(t, "CONFIG_BPF=y\nCONFIG_DROPPED=y\n")}},
			ErrFragment, []string{"CONFIG_DROPPED=y wanted, .config leaves it unset", "log: "}},
		{"make fails", Spec{Tree: tree, Arch: "amd64", Fragments: []string{fragment(t, "CONFIG_BREAK=y\n")}},
			ErrBuild, []string{"make", "error: broken", "log: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			bl := &Builder{Cache: cache}
			_, err := bl.Build(context.Background(), tc.spec)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			// nothing half-built: no build dir, no temporary, no patched source
			ents, _ := os.ReadDir(cache)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".lock") {
					continue // a work path's lock, not a build
				}
				switch e.Name() {
				case "logs", "stat":
					continue
				case "src":
					srcs, _ := os.ReadDir(filepath.Join(cache, "src"))
					if len(srcs) != 0 {
						t.Errorf("src holds %d entries after a failure", len(srcs))
					}
					continue
				}
				t.Errorf("cache holds %s after a failure", e.Name())
			}
			// a failed build keeps its log, named in the error
			if i := strings.Index(err.Error(), "log: "); i >= 0 {
				p := strings.TrimSpace(err.Error()[i+5:])
				if _, e := os.Stat(p); e != nil {
					t.Errorf("the log named in the error is not there: %v", e)
				}
			}
			// and the retry is not taken for a cached build
			if _, err2 := bl.Build(context.Background(), tc.spec); !errors.Is(err2, tc.is) {
				t.Errorf("retry: %v, want %v again", err2, tc.is)
			}
		})
	}
}

func TestPatchesApplied(t *testing.T) {
	tree := fakeTree(t)
	p := filepath.Join(t.TempDir(), "0001.patch")
	os.WriteFile(p, []byte("From x\nSubject: one\n\n---\ndiff --git a/kernel/bpf/btf.c b/kernel/bpf/btf.c\n--- a/kernel/bpf/btf.c\n+++ b/kernel/bpf/btf.c\n@@ -1 +1 @@\n-int btf;\n+int btf_patched;\n-- \n2.39\n"), 0o644)
	cover := filepath.Join(t.TempDir(), "0000-cover-letter.patch")
	os.WriteFile(cover, []byte("Subject: [PATCH 0/1] cover\n\nwords\n"), 0o644)
	bl := &Builder{Cache: t.TempDir()}
	b, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Patches: []string{cover, p}})
	if err != nil {
		t.Fatal(err)
	}
	vml, _ := os.ReadFile(filepath.Join(b.Dir, "vmlinux"))
	if !strings.Contains(string(vml), "int btf_patched;") {
		t.Errorf("the patched build's vmlinux lacks the patched line:\n%s", vml)
	}
	orig, _ := os.ReadFile(filepath.Join(tree, "kernel/bpf/btf.c"))
	if string(orig) != "int btf;\n" {
		t.Errorf("the input tree was changed: %q", orig)
	}
	// a reworded commit message keeps the key
	os.WriteFile(p, []byte("From x\nSubject: one, reworded\n\n---\ndiff --git a/kernel/bpf/btf.c b/kernel/bpf/btf.c\n--- a/kernel/bpf/btf.c\n+++ b/kernel/bpf/btf.c\n@@ -1 +1 @@\n-int btf;\n+int btf_patched;\n-- \n2.40\n"), 0o644)
	_, b2, err := bl.Prepare(Spec{Tree: tree, Arch: "amd64", Patches: []string{cover, p}})
	if err != nil || b2.Key != b.Key {
		t.Errorf("reworded patch: key %v, %v; want %s", b2, err, b.Key)
	}
}

// TestPatchRelativePath: a patch named relative to the working directory
// (make validate-7.2-patched's kernel-patch/upstream/series/...) applies
// though patch runs inside the tree's copy.
func TestPatchRelativePath(t *testing.T) {
	tree := fakeTree(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0001.patch"), []byte("diff --git a/kernel/bpf/btf.c b/kernel/bpf/btf.c\n--- a/kernel/bpf/btf.c\n+++ b/kernel/bpf/btf.c\n@@ -1 +1 @@\n-int btf;\n+int btf_relative;\n"), 0o644)
	t.Chdir(dir)
	bl := &Builder{Cache: t.TempDir()}
	b, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", Patches: []string{"0001.patch"}})
	if err != nil {
		t.Fatal(err)
	}
	if vml, _ := os.ReadFile(filepath.Join(b.Dir, "vmlinux")); !strings.Contains(string(vml), "int btf_relative;") {
		t.Errorf("the patched build's vmlinux lacks the patched line:\n%s", vml)
	}
}

func TestTarball(t *testing.T) {
	tree := fakeTree(t)
	tarball := filepath.Join(t.TempDir(), "linux-source-7.2.tar.xz")
	if out, err := exec.Command("tar", "-cJf", tarball, "-C", filepath.Dir(tree), "linux").CombinedOutput(); err != nil {
		t.Skipf("tar -J: %v: %s", err, out)
	}
	bl := &Builder{Cache: t.TempDir()}
	tr, b, err := bl.Prepare(Spec{Tree: tarball, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(tr.Dir) != "linux" || tr.Version != "7.2.13" || b.From != tarball {
		t.Errorf("tarball tree %+v", tr)
	}
	sum, _ := fileSum(tarball)
	if tr.Hash[:16] != strings.ToLower(filepath.Base(filepath.Dir(tr.Dir))) || len(tr.Hash) != 64 || tr.Hash[:8] != hexPrefix(sum[:4]) {
		t.Errorf("tarball hash %s, dir %s, want the file's sha256", tr.Hash, tr.Dir)
	}
}

func hexPrefix(b []byte) string {
	const h = "0123456789abcdef"
	s := ""
	for _, c := range b {
		s += string(h[c>>4]) + string(h[c&15])
	}
	return s
}

func TestConfigOnly(t *testing.T) {
	tree := fakeTree(t)
	cache := t.TempDir()
	bl := &Builder{Cache: cache}
	b, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", ConfigOnly: true,
		Fragments: []string{fragment(t, "CONFIG_BPF=y\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.Dir); err == nil {
		t.Errorf("a config-only run left %s", b.Dir)
	}
	if _, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64", ConfigOnly: true,
		Fragments: []string{fragment(t, "CONFIG_DROPPED=y\n")}}); !errors.Is(err, ErrFragment) {
		t.Errorf("config-only with a dropped line: %v, want ErrFragment", err)
	}
}

func TestFixOutput(t *testing.T) {
	dir := t.TempDir()
	mk := "# Automatically generated by /src/Makefile: don't edit\nexport KBUILD_OUTPUT = /cache/.tmp-x-1\ninclude /src/Makefile\n"
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	if err := fixOutput(dir); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "Makefile"))
	want := "# Automatically generated by /src/Makefile: don't edit\nexport KBUILD_OUTPUT = " + dir + "\ninclude /src/Makefile\n"
	if string(got) != want {
		t.Errorf("Makefile after fixOutput:\n%s\nwant:\n%s", got, want)
	}
}
