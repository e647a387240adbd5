//go:build vmguest

package gotest

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	cbtf "github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// bpf(2) commands and flags (include/uapi/linux/bpf.h).
const (
	bpfProgLoad    = 5
	bpfProgTestRun = 10
	bpfFSleepable  = 1 << 4
)

// moduleBTF is the kernel's BTF object of a module (one lookup over every
// BTF object for all of a step's probes).
func moduleBTF(module string) (*cbtf.Handle, error) {
	return cbtf.FindHandle(func(info *cbtf.HandleInfo) bool { return info.IsModule() && info.Name == module })
}

// probeKfunc loads p's program against the module's BTF object h and
// returns the verifier's answer (see KfuncProbe). Raw bpf(2): the program
// names its kfunc by the id the host gave, not by a name a library would
// look up.
func probeKfunc(h *cbtf.Handle, herr error, module string, p KfuncProbe) KfuncAnswer {
	a := KfuncAnswer{Name: p.Name, Hook: p.Hook, ID: p.ID}
	if herr != nil {
		a.Errno, a.Log = -1, fmt.Sprintf("probe: no BTF object named %s: %v", module, herr)
		return a
	}
	insns := p.Insns
	if insns == nil {
		insns = ProbeInsns(p.ID, binary.NativeEndian)
	}
	license := []byte("GPL\x00")
	log := make([]byte, 1<<16)
	fds := []int32{-1, int32(h.FD())}

	// union bpf_attr, BPF_PROG_LOAD, up to fd_array (offset 120).
	var attr [128]byte
	le := binary.NativeEndian
	le.PutUint32(attr[0:], p.Prog)
	le.PutUint32(attr[4:], uint32(len(insns)/8))
	le.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&insns[0]))))
	le.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	le.PutUint32(attr[24:], 1) // log_level
	le.PutUint32(attr[28:], uint32(len(log)))
	le.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&log[0]))))
	if p.Sleepable {
		le.PutUint32(attr[44:], bpfFSleepable)
	}
	copy(attr[48:64], "btfrecon_probe")
	le.PutUint32(attr[68:], p.AttachType)
	le.PutUint32(attr[108:], p.AttachBTFID)
	le.PutUint64(attr[120:], uint64(uintptr(unsafe.Pointer(&fds[0]))))
	fd, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	// The buffers must live through the call (attr hides the pointers).
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	runtime.KeepAlive(fds)
	if errno == 0 {
		if p.Run {
			a.Ran, a.Retval, a.RunErr = testRun(int(fd))
		}
		unix.Close(int(fd))
		return a
	}
	a.Errno = int(errno)
	if a.Log = LastVerifierMessage(string(log[:clen(log)])); a.Log == "" {
		a.Log = "probe: BPF_PROG_LOAD: " + errno.Error()
	}
	return a
}

func clen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// testRun runs a loaded SYSCALL program once (BPF_PROG_TEST_RUN without
// context or data) and returns its r0.
func testRun(fd int) (bool, uint32, string) {
	// union bpf_attr's test: prog_fd, retval, then fields a SYSCALL
	// program's run must leave zero.
	var attr [80]byte
	binary.NativeEndian.PutUint32(attr[0:], uint32(fd))
	_, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgTestRun, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	if errno != 0 {
		return false, 0, "BPF_PROG_TEST_RUN: " + errno.Error()
	}
	return true, binary.NativeEndian.Uint32(attr[4:]), ""
}
