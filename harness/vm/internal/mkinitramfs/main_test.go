package main

import (
	"strings"
	"testing"
)

// TestUsage: what is missing or malformed is refused before u-root runs.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "are required"},
		{"no uinit", []string{"-arch", "amd64", "-dir", "/src", "-tmp", "/t", "-o", "/t/o.cpio"}, "uinit command after --"},
		{"no -o", []string{"-arch", "amd64", "-dir", "/src", "-tmp", "/t", "--", "init"}, "-o"},
		{"file without dest", []string{"-file", "/x.ko", "-arch", "amd64"}, `-file "/x.ko": want HOST:DEST`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%q) = %v, want an error holding %q", tc.args, err, tc.want)
			}
		})
	}
}
