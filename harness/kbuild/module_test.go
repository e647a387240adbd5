package kbuild

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestView(t *testing.T) {
	bd := t.TempDir()
	writeTree(t, bd, map[string]string{"vmlinux": "elf", ".config": "CONFIG_BPF=y\n",
		"arch/x86/boot/bzImage": "img", "include/config/kernel.release": "7.2.13\n"})
	ko := filepath.Join(t.TempDir(), "btfrecon_test.ko")
	os.WriteFile(ko, []byte("ko"), 0o644)
	b := &Build{Dir: bd, Image: "arch/x86/boot/bzImage"}
	view := filepath.Join(t.TempDir(), "A")
	if err := b.View(view, []string{ko}); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		"vmlinux": "elf", ".config": "CONFIG_BPF=y\n", "arch/x86/boot/bzImage": "img",
		"include/config/kernel.release": "7.2.13\n", "lib/modules/7.2.13/extra/btfrecon_test.ko": "ko",
	} {
		got, err := os.ReadFile(filepath.Join(view, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", rel, got, err, want)
		}
	}
}

func TestBuildModuleFails(t *testing.T) {
	tree := fakeTree(t)
	bl := &Builder{Cache: t.TempDir()}
	b, err := bl.Build(context.Background(), Spec{Tree: tree, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "Kbuild"), []byte("obj-m := x.o\n"), 0o644)
	// the fake tree's Makefile has no M= support: make fails, and says so
	_, err = b.BuildModule(context.Background(), src, filepath.Join(t.TempDir(), "out"), nil, nil)
	if !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), src) {
		t.Errorf("error %v, want ErrModule naming %s", err, src)
	}
}
