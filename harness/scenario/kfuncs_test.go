package scenario

import (
	"encoding/binary"
	"encoding/hex"
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

// TestCtMarkProbe: the nf_conn.mark write probe is built only with both
// kfuncs and nf_conn's mark in the target, at mark's byte offset; its
// instructions, checked at the three that matter (little-endian: opcode,
// dst_reg in the low nibble, src_reg in the high one, off, imm).
func TestCtMarkProbe(t *testing.T) {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	u32 := b.Int("unsigned int", 4, 0)
	b.Struct("nf_conn", 256, btf.Member{Name: "ct_general", Type: u32}, btf.Member{Name: "mark", Type: u32, Offset: 8 * 132})
	target, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	kf := []kfuncWant{{"bpf_ct_release", 0x1b8b4}, {"bpf_xdp_ct_lookup", 0x1b8bc}}
	p, ok := ctMarkProbe(kf, target)
	if !ok || p.Hook != "xdp" || p.Prog != gotest.ProgXDP || p.Name != ctMarkName || len(p.Insns) != 22*8 {
		t.Fatalf("probe %+v (%d bytes), %v", p, len(p.Insns), ok)
	}
	insn := func(i int) string { return hex.EncodeToString(p.Insns[8*i : 8*i+8]) }
	for i, want := range map[int]string{
		14: "85200100bcb80100",      // call bpf_xdp_ct_lookup: kfunc (src 2), fd_array[1], imm 0x1b8bc
		17: "63108400" + "00000000", // *(u32 *)(r0 + 132) = r1: the write under test
		19: "85200100b4b80100",      // call bpf_ct_release
		21: "9500000000000000",      // exit
	} {
		if got := insn(i); got != want {
			t.Errorf("insn %d = %s, want %s", i, got, want)
		}
	}
	if _, ok := ctMarkProbe(kf[:1], target); ok {
		t.Error("a probe without bpf_xdp_ct_lookup")
	}
	if off, ok := memberOffset(target, "nf_conn", "mark"); !ok || off != 132 {
		t.Errorf("memberOffset = %d, %v", off, ok)
	}
}

// TestJudgePrograms: the distilled module must be refused the write for
// the reason the probe is about; its kernel's own build must be allowed it.
func TestJudgePrograms(t *testing.T) {
	refused := gotest.KfuncAnswer{Name: ctMarkName, Hook: "xdp", Errno: 13, Log: "only read is supported"}
	other := gotest.KfuncAnswer{Name: ctMarkName, Hook: "xdp", Errno: 13, Log: "R0 invalid mem access 'scalar'"}
	allowed := gotest.KfuncAnswer{Name: ctMarkName, Hook: "xdp"}
	for _, tc := range []struct {
		role    string
		allowed bool
		ans     gotest.KfuncAnswer
		ok      bool
	}{
		{RoleModule, false, refused, true},
		{RoleModule, false, other, false},
		{RoleModule, false, allowed, false},
		{RoleNative, true, allowed, true},
		{RoleNative, true, refused, false},
	} {
		row := judgePrograms(Row{Role: tc.role, Agree: true, progs: []progWant{{Name: ctMarkName, Allowed: tc.allowed}}},
			[]gotest.KfuncAnswer{tc.ans})
		if len(row.Programs) != 1 || row.Programs[0].OK != tc.ok || row.Agree != tc.ok || row.Programs[0].Control != (tc.role == RoleNative) {
			t.Errorf("%s want allowed %v, answer %q: %+v", tc.role, tc.allowed, tc.ans.Log, row)
		}
	}
}

// TestKfuncCall: a known kfunc of the test module gets a call probe at its
// relocated id, judged on what it returns.
func TestKfuncCall(t *testing.T) {
	const name = "call btfrecon_test_kfunc(1000)"
	want := uint32(1000 + 0x600d)
	for _, tc := range []struct {
		name string
		ans  gotest.KfuncAnswer
		ok   bool
		got  string
	}{
		{"returns x + 0x600d", gotest.KfuncAnswer{Name: name, Ran: true, Retval: want}, true, "returned 25589"},
		{"another function", gotest.KfuncAnswer{Name: name, Ran: true, Retval: 7}, false, "returned 7"},
		{"not run", gotest.KfuncAnswer{Name: name, RunErr: "BPF_PROG_TEST_RUN: invalid argument"}, false, "did not run"},
		{"refused", gotest.KfuncAnswer{Name: name, Errno: 13, Log: "calling kernel function btfrecon_test_kfunc is not allowed"}, false, "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := judgePrograms(Row{Role: RoleNative, Agree: true, progs: []progWant{{Name: name, Allowed: true, Ret: &want}}},
				[]gotest.KfuncAnswer{tc.ans})
			if row.Agree != tc.ok || len(row.Programs) != 1 || !strings.Contains(row.Programs[0].Got, tc.got) || row.Programs[0].Want != "returns 25589" {
				t.Errorf("%+v", row.Programs)
			}
		})
	}
	if c := knownCalls["btfrecon_test_kfunc"]; c.Arg != 1000 || c.Ret != want {
		t.Errorf("knownCalls: %+v", c)
	}
}
