//go:build !vmguest

package gotest

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// TestProbeInsns: the probe program, instruction by instruction, as
// include/uapi/linux/bpf.h lays them out (opcode; dst_reg in the low
// nibble on little-endian, the high one on big-endian; off; imm).
func TestProbeInsns(t *testing.T) {
	want := "b701000000000000" + // r1 = 0: BPF_ALU64|BPF_MOV|BPF_K = 0xb7, dst 1
		"b702000000000000" +
		"b703000000000000" +
		"b704000000000000" +
		"b705000000000000" +
		"8520010034120000" + // call: BPF_JMP|BPF_CALL = 0x85, src 2 (kfunc), off 1, imm 0x1234
		"b700000000000000" + // r0 = 0
		"9500000000000000" // exit
	if got := hex.EncodeToString(ProbeInsns(0x1234, binary.LittleEndian)); got != want {
		t.Errorf("little-endian:\n got %s\nwant %s", got, want)
	}
	be := hex.EncodeToString(ProbeInsns(0x1234, binary.BigEndian))
	if call := be[5*16 : 6*16]; call != "8502000100001234" {
		t.Errorf("big-endian call = %s, want 8502000100001234", call)
	}
	if mov := be[:16]; mov != "b710000000000000" {
		t.Errorf("big-endian mov r1 = %s, want b710000000000000", mov)
	}
}

// TestCallInsns: the call program returns the kfunc's result (no r0 = 0
// after the call), with the argument in r1.
func TestCallInsns(t *testing.T) {
	want := "b7010000e8030000" + // r1 = 1000
		"b702000000000000" +
		"b703000000000000" +
		"b704000000000000" +
		"b705000000000000" +
		"8520010034120000" + // call kfunc [0x1234] of fd_array[1]
		"9500000000000000" // exit: r0 is the kfunc's
	if got := hex.EncodeToString(CallInsns(0x1234, 1000, binary.LittleEndian)); got != want {
		t.Errorf("little-endian:\n got %s\nwant %s", got, want)
	}
	if be := hex.EncodeToString(CallInsns(0x1234, -1, binary.BigEndian)); be[:16] != "b7100000ffffffff" {
		t.Errorf("big-endian mov r1, -1 = %s, want b7100000ffffffff", be[:16])
	}
}

// TestKfuncVerdict: the verifier's messages (kernel/bpf/verifier.c, 6.12)
// and how each reads.
func TestKfuncVerdict(t *testing.T) {
	for _, tc := range []struct {
		a    KfuncAnswer
		want KfuncVerdict
	}{
		{KfuncAnswer{Errno: 0}, KfuncAllowed},
		{KfuncAnswer{Errno: 13, Log: "calling kernel function bpf_skb_ct_lookup is not allowed"}, KfuncNotAllowed},
		{KfuncAnswer{Errno: 22, Log: "kernel btf_id 70123 is not a function"}, KfuncBadID},
		{KfuncAnswer{Errno: 22, Log: "cannot find address for kernel function bpf_foo"}, KfuncBadID},
		{KfuncAnswer{Errno: 22, Log: "arg#0 expected pointer to ctx, but got scalar"}, KfuncAllowed},
		{KfuncAnswer{Errno: 22, Log: "R1 type=scalar expected=fp"}, KfuncAllowed},
		{KfuncAnswer{Errno: -1, Log: "probe: no BTF object named fou"}, KfuncNoAnswer},
		{KfuncAnswer{Errno: 1}, KfuncNoAnswer},
	} {
		if got := tc.a.Verdict(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.a, got, tc.want)
		}
	}
}

func TestLastVerifierMessage(t *testing.T) {
	log := "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r1 = 0\n5: (85) call bpf_skb_ct_lookup#99012\n" +
		"calling kernel function bpf_skb_ct_lookup is not allowed\nprocessed 6 insns (limit 1000000) max_states_per_insn 0\n\x00\x00"
	if got, want := LastVerifierMessage(log), "calling kernel function bpf_skb_ct_lookup is not allowed"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := LastVerifierMessage(""); got != "" {
		t.Errorf("empty log: %q", got)
	}
}

// TestModprobeTable: names compare with '-' and '_' alike, as modprobe
// compares them; every module an alias names is loaded.
func TestModprobeTable(t *testing.T) {
	tb := ModprobeTable{}
	a := ModprobeTarget{Module: "nls_koi8_u", Files: []string{"mods/nls_koi8_u.ko"}, Flags: []int{0}}
	b := ModprobeTarget{Module: "zstd", Files: []string{"mods/zstd.ko"}, Flags: []int{3}}
	c := ModprobeTarget{Module: "zstd_alt", Files: []string{"mods/zstd_alt.ko"}, Flags: []int{0}}
	tb.Add("nls_koi8_u", a)
	tb.Add("crypto-zstd", b)
	tb.Add("crypto-zstd", c)
	if got := tb.Lookup("nls_koi8-u"); len(got) != 1 || got[0].Module != "nls_koi8_u" {
		t.Errorf("nls_koi8-u: %+v", got)
	}
	if got := tb.Lookup("crypto_zstd"); len(got) != 2 || got[1].Module != "zstd_alt" {
		t.Errorf("crypto_zstd: %+v", got)
	}
	if got := tb.Lookup("fs-nope"); got != nil {
		t.Errorf("fs-nope: %+v", got)
	}
}
