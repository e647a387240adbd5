package scenario

import (
	"strings"
	"testing"
)

func TestSelectLoadable(t *testing.T) {
	paths := []string{
		"/c/lib/modules/6.12/kernel/fs/nls/nls_utf8.ko.xz",
		"/c/lib/modules/6.12/kernel/crypto/tcrypt.ko.xz",
		"/c/lib/modules/6.12/kernel/lib/test_bpf.ko.xz",
		"/c/lib/modules/6.12/kernel/drivers/net/e1000.ko.xz",
		"/c/lib/modules/6.12/kernel/lib/crc-itu-t.ko.xz",
	}
	got := SelectLoadable(paths)
	if strings.Join(got, ",") != "crc_itu_t,nls_utf8" {
		t.Fatalf("got %v", got)
	}
}
