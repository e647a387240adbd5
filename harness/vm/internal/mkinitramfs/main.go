// Command mkinitramfs writes the u-root initramfs harness/vm boots: u-root's
// init and vmtest's shutdownafter and vmmount in one busybox binary, the
// files named by -file, and a uinit running the arguments after "--".
//
// It is a program of its own, run by harness/vm with `go run` from the
// btfrecon source tree, because u-root's builder links golang.org/x/tools,
// whose module index creates ~/.cache/goimports when the package is
// initialised: linked into btfrecon, every process (even --version) made
// that directory, and the builder's code was most of btfrecon's binary.
//
// usage: mkinitramfs -arch A -dir SRC -tmp TMP -o OUT.cpio [-file HOST:DEST]... -- UINIT [ARG]...
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
)

// commands go into the busybox binary; init is u-root's.
var commands = []string{
	"github.com/u-root/u-root/cmds/core/init",
	"github.com/hugelgupf/vmtest/vminit/shutdownafter",
	"github.com/hugelgupf/vmtest/vminit/vmmount",
}

// fileList is a repeatable -file flag.
type fileList []string

func (f *fileList) String() string { return strings.Join(*f, ",") }

func (f *fileList) Set(v string) error {
	if !strings.Contains(v, ":") {
		return fmt.Errorf("-file %q: want HOST:DEST", v)
	}
	*f = append(*f, v)
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkinitramfs", flag.ContinueOnError)
	arch := fs.String("arch", "", "GOARCH of the guest (required)")
	dir := fs.String("dir", "", "the Go module the commands are built in (required)")
	tmp := fs.String("tmp", "", "u-root's scratch directory (required)")
	out := fs.String("o", "", "the cpio archive to write (required)")
	var files fileList
	fs.Var(&files, "file", "HOST:DEST, a file to put into the archive (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	uinit := fs.Args()
	if *arch == "" || *dir == "" || *tmp == "" || *out == "" || len(uinit) == 0 {
		return errors.New("-arch, -dir, -tmp, -o and a uinit command after -- are required")
	}
	l := llog.New(slog.LevelError, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "u-root: "+format+"\n", args...)
	})
	err := uimage.Create(l,
		uimage.WithEnv(golang.DisableCGO(), golang.WithGOARCH(*arch), golang.WithWorkingDir(*dir)),
		uimage.WithTempDir(*tmp),
		uimage.WithCPIOOutput(*out),
		uimage.WithBusyboxCommands(commands...),
		uimage.WithInit("init"),
		uimage.WithUinit(uinit[0], uinit[1:]...),
		uimage.WithFiles(files...),
	)
	if err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	return nil
}
