package gotest

import (
	"encoding/binary"
	"strings"
)

// A kfunc probe asks the running kernel whether a module's kfunc set was
// registered under the ids the host expects: the guest loads a BPF program
// of one type that calls BTF id ID of the module's BTF (the id as
// /sys/kernel/btf/<module> numbers it) and keeps the verifier's answer.
// The verifier looks the id up in the module's registered kfunc sets for
// the program type's hook (btf_kfunc_id_set_contains) before it checks any
// argument: "calling kernel function X is not allowed" means the id is not
// in a set registered for that hook; any later complaint (an argument of
// the wrong type) means it is. A module built with .BTF.base registers its
// set with every id mapped through the relocation (btf_relocate_id), so an
// answer past that check is the kernel's word that the map and the host's
// expectation agree.

// BPF program types a probe may use (enum bpf_prog_type, 6.12).
const (
	ProgSocketFilter = 1
	ProgSchedCls     = 3
	ProgXDP          = 6
	ProgStructOps    = 27
	ProgSyscall      = 31
)

// KfuncProbe is one program to load: a call of kfunc Name (BTF id ID of
// the module's BTF) from a program of type Prog.
type KfuncProbe struct {
	Name string `json:"name"`
	ID   uint32 `json:"id"`
	// Prog is the program type; Hook names it in reports ("xdp", "tc").
	Prog uint32 `json:"prog"`
	Hook string `json:"hook"`
	// Sleepable loads with BPF_F_SLEEPABLE (SYSCALL programs need it).
	Sleepable bool `json:"sleepable,omitempty"`
	// AttachBTFID and AttachType: a STRUCT_OPS program's struct (a
	// vmlinux BTF id) and member index.
	AttachBTFID uint32 `json:"attach_btf_id,omitempty"`
	AttachType  uint32 `json:"attach_type,omitempty"`
	// Insns, when set, is the program to load instead of ProbeInsns(ID):
	// a probe of more than the set lookup (a write through a kfunc's
	// result), its kfunc calls naming fd_array[1], the module's BTF.
	Insns []byte `json:"insns,omitempty"`
	// Run: once loaded, the program runs (BPF_PROG_TEST_RUN, a SYSCALL
	// program) and its return value is the answer's (a call, CallInsns).
	Run bool `json:"run,omitempty"`
}

// KfuncAnswer is what the kernel said to one probe.
type KfuncAnswer struct {
	Name string `json:"name"`
	Hook string `json:"hook"`
	ID   uint32 `json:"id"`
	// Errno is BPF_PROG_LOAD's (0: the program loaded); Log the verifier's
	// last message before its statistics.
	Errno int    `json:"errno,omitempty"`
	Log   string `json:"log,omitempty"`
	// Ran and Retval: a Run probe's test run and the program's r0;
	// RunErr why it did not run.
	Ran    bool   `json:"ran,omitempty"`
	Retval uint32 `json:"retval,omitempty"`
	RunErr string `json:"run_err,omitempty"`
}

// KfuncVerdict is how an answer reads.
type KfuncVerdict string

const (
	KfuncAllowed    KfuncVerdict = "allowed"     // the id is in a set registered for the hook
	KfuncNotAllowed KfuncVerdict = "not-allowed" // it is not
	KfuncBadID      KfuncVerdict = "bad-id"      // the id is not a function of the module's BTF
	KfuncNoAnswer   KfuncVerdict = "no-answer"   // the probe did not get as far as the call
)

// Verdict reads an answer (see KfuncProbe).
func (a KfuncAnswer) Verdict() KfuncVerdict {
	switch {
	case a.Errno == 0:
		return KfuncAllowed
	case strings.Contains(a.Log, "calling kernel function") && strings.Contains(a.Log, "is not allowed"):
		return KfuncNotAllowed
	case strings.Contains(a.Log, "is not a function"), strings.Contains(a.Log, "cannot find address for kernel function"),
		strings.Contains(a.Log, "invalid btf_id"):
		return KfuncBadID
	case a.Log == "", strings.HasPrefix(a.Log, "probe:"):
		return KfuncNoAnswer
	}
	return KfuncAllowed
}

// BPF instruction fields (include/uapi/linux/bpf.h).
const (
	bpfALU64        = 0x07
	bpfJMP          = 0x05
	bpfMOV          = 0xb0
	bpfK            = 0x00
	bpfCALL         = 0x80
	bpfEXIT         = 0x90
	pseudoKfuncCall = 2
)

// ProbeInsns is the probe program, eight bytes an instruction in byte
// order bo: r1..r5 = 0, call the kfunc (src_reg BPF_PSEUDO_KFUNC_CALL,
// imm its BTF id, off 1: fd_array[1] is the module's BTF), r0 = 0, exit.
// The zero arguments fail the verifier's argument checks of most kfuncs,
// which come after the set lookup the probe is about.
func ProbeInsns(id uint32, bo binary.ByteOrder) []byte {
	ins := func(code, dst, src uint8, off int16, imm int32) []byte {
		return Insn(bo, code, dst, src, off, imm)
	}
	var out []byte
	for r := uint8(1); r <= 5; r++ {
		out = append(out, ins(bpfALU64|bpfMOV|bpfK, r, 0, 0, 0)...)
	}
	out = append(out, ins(bpfJMP|bpfCALL, 0, pseudoKfuncCall, 1, int32(id))...)
	out = append(out, ins(bpfALU64|bpfMOV|bpfK, 0, 0, 0, 0)...)
	return append(out, ins(bpfJMP|bpfEXIT, 0, 0, 0, 0)...)
}

// CallInsns is a program that calls the kfunc with BTF id id of the
// module's BTF (fd_array[1]) with arg in r1 (r2..r5 = 0) and returns what
// it returns, eight bytes an instruction in byte order bo.
func CallInsns(id uint32, arg int32, bo binary.ByteOrder) []byte {
	ins := func(code, dst, src uint8, off int16, imm int32) []byte {
		return Insn(bo, code, dst, src, off, imm)
	}
	out := ins(bpfALU64|bpfMOV|bpfK, 1, 0, 0, arg)
	for r := uint8(2); r <= 5; r++ {
		out = append(out, ins(bpfALU64|bpfMOV|bpfK, r, 0, 0, 0)...)
	}
	out = append(out, ins(bpfJMP|bpfCALL, 0, pseudoKfuncCall, 1, int32(id))...)
	return append(out, ins(bpfJMP|bpfEXIT, 0, 0, 0, 0)...)
}

// LastVerifierMessage is the verifier log's last line that is not one of
// its closing statistics ("processed N insns ...", "verification time").
func LastVerifierMessage(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\x00\n "), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") {
			continue
		}
		return l
	}
	return ""
}

// Insn encodes one BPF instruction in byte order bo: the register nibbles
// swap places on a big-endian target.
func Insn(bo binary.ByteOrder, code, dst, src uint8, off int16, imm int32) []byte {
	b := make([]byte, 8)
	b[0] = code
	if bo == binary.BigEndian {
		b[1] = dst<<4 | src
	} else {
		b[1] = src<<4 | dst
	}
	bo.PutUint16(b[2:], uint16(off))
	bo.PutUint32(b[4:], uint32(imm))
	return b
}
