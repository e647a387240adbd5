package scenario

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// TestSameIDLayout: two builds' .BTF_ids symbols match but for the
// __COUNTER__/__LINE__ suffixes BTF_ID appends; anything else differs.
func TestSameIDLayout(t *testing.T) {
	a := []kmod.BTFIDSym{{Name: "__BTF_ID__set8__nf_ct_kfunc_set", Off: 0, Size: 88}, {Name: "__BTF_ID__func__bpf_ct_release__1027518", Off: 8, Size: 4}}
	b := []kmod.BTFIDSym{{Name: "__BTF_ID__set8__nf_ct_kfunc_set", Off: 0, Size: 88}, {Name: "__BTF_ID__func__bpf_ct_release__1029520", Off: 8, Size: 4}}
	if why := sameIDLayout(a, b); why != "" {
		t.Errorf("counters only: %s", why)
	}
	b[1].Off = 16
	if why := sameIDLayout(a, b); !strings.Contains(why, "at 8 against") {
		t.Errorf("moved symbol: %q", why)
	}
	b[1].Off, b[1].Name = 8, "__BTF_ID__func__bpf_ct_insert_entry__1029520"
	if why := sameIDLayout(a, b); why == "" {
		t.Error("another function accepted")
	}
	if why := sameIDLayout(a, b[:1]); why != "2 symbols against 1" {
		t.Errorf("fewer symbols: %q", why)
	}
}

// TestKfuncHooks: every kfunc is probed under XDP, TC, SYSCALL (sleepable),
// STRUCT_OPS attached to tcp_congestion_ops as the target numbers it, and
// SOCKET_FILTER; without the struct there is no STRUCT_OPS probe.
func TestKfuncHooks(t *testing.T) {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	b.Struct("sock", 8)
	b.Struct("tcp_congestion_ops", 16)
	target, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	hooks := kfuncHooks(target)
	var names []string
	for _, h := range hooks {
		names = append(names, h.Hook)
	}
	if strings.Join(names, " ") != "xdp tc syscall struct_ops socket_filter" {
		t.Fatalf("hooks %v", names)
	}
	if h := hooks[3]; h.Prog != gotest.ProgStructOps || h.AttachBTFID != 3 || h.AttachType != 0 {
		t.Errorf("struct_ops probe %+v, want tcp_congestion_ops [3], member 0", h)
	}
	if !hooks[2].Sleepable || hooks[2].Prog != gotest.ProgSyscall {
		t.Errorf("syscall probe %+v", hooks[2])
	}
	b2 := btf.NewBuilder(binary.LittleEndian, nil)
	b2.Int("int", 4, btf.IntSigned)
	none, _ := b2.Spec()
	if n := len(kfuncHooks(none)); n != 4 {
		t.Errorf("%d hooks without tcp_congestion_ops, want 4", n)
	}
}
