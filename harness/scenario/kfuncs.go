package scenario

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
)

// A Debian module with a .BTF_ids section had its ids filled by the
// in-tree build against its own vmlinux and split numbering. Given a
// .BTF.base, the section must hold ids in the distilled numbering, as
// resolve_btfids fills it for an external module (load.RemapBTFIDs); the
// kernel then registers each kfunc set with every id mapped through the
// relocation (btf_relocate_id). The scenario writes the remapped section,
// predicts each kfunc's id in /sys/kernel/btf/<module> (the relocation's
// id map applied to the remapped entry), and asks the verifier, once the
// module is loaded, whether a program calling that id finds it in a
// registered set (gotest.KfuncProbe).

// idsPrep is a module's re-resolved .BTF_ids.
type idsPrep struct {
	sec    []byte // the remapped section (nil: the module has none)
	kfuncs []load.Kfunc
	note   string
}

// btfIDs re-resolves A's .BTF_ids against A's distillation (d, s2 of
// split) for host, the build whose code is loaded: A's own, or B's when
// its section has A's layout (the same symbols at the same offsets, so
// that B's code finds A's words where it looks).
func (p *preparer) btfIDs(n string, ma, host *kmod.Module, split, d, s2 *btf.Spec) (idsPrep, error) {
	sec, ksyms, ok, err := ma.BTFIDs()
	if err != nil || !ok {
		return idsPrep{}, err
	}
	if host != ma {
		_, hsyms, _, err := host.BTFIDs()
		if err != nil {
			return idsPrep{}, err
		}
		if why := sameIDLayout(ksyms, hsyms); why != "" {
			return idsPrep{}, fmt.Errorf("module %s: %s's .BTF_ids is not laid out as %s's (%s): A's ids cannot go into B's code", n, p.B.k.Release, p.A.k.Release, why)
		}
	}
	syms := make([]load.IDSym, len(ksyms))
	for i, s := range ksyms {
		syms[i] = load.IDSym{Name: s.Name, Off: s.Off, Size: s.Size}
	}
	out, done, unresolved, err := load.RemapBTFIDs(sec, ma.ByteOrder, syms, p.A.vmlinux, split, d, s2)
	if err != nil {
		return idsPrep{}, fmt.Errorf("module %s: .BTF_ids: %w", n, err)
	}
	kf, err := load.KfuncsOn(p.B.k.Release, out, ma.ByteOrder, syms)
	if err != nil {
		return idsPrep{}, fmt.Errorf("module %s: .BTF_ids: %w", n, err)
	}
	note := fmt.Sprintf("%d .BTF_ids slots re-resolved against the distilled numbering, %d kfuncs", len(done), len(kf))
	if len(unresolved) > 0 {
		note += fmt.Sprintf("; not in the distilled numbering (left 0, as resolve_btfids would): %s", strings.Join(unresolved, ", "))
	}
	return idsPrep{sec: out, kfuncs: kf, note: note}, nil
}

var symCounter = regexp.MustCompile(`__[0-9]+$`)

// sameIDLayout is "" when two builds' .BTF_ids symbols are the same but
// for the counters BTF_ID appends (__COUNTER__, __LINE__), else what
// differs.
func sameIDLayout(a, b []kmod.BTFIDSym) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d symbols against %d", len(a), len(b))
	}
	for i := range a {
		an, bn := symCounter.ReplaceAllString(a[i].Name, ""), symCounter.ReplaceAllString(b[i].Name, "")
		if an != bn || a[i].Off != b[i].Off || a[i].Size != b[i].Size {
			return fmt.Sprintf("%s at %d against %s at %d", a[i].Name, a[i].Off, b[i].Name, b[i].Off)
		}
	}
	return ""
}

// kfuncHooks are the programs every kfunc is probed with: the hooks
// Debian's modules register kfunc sets for (XDP, TC, STRUCT_OPS for TCP
// congestion control), SYSCALL, and SOCKET_FILTER, a hook none of them
// registers for: the same program refused there shows that "allowed"
// elsewhere is the set lookup speaking. The STRUCT_OPS probe attaches to
// tcp_congestion_ops' first member as target numbers it (left out when
// target has no such struct).
func kfuncHooks(target *btf.Spec) []gotest.KfuncProbe {
	hooks := []gotest.KfuncProbe{
		{Hook: "xdp", Prog: gotest.ProgXDP},
		{Hook: "tc", Prog: gotest.ProgSchedCls},
		{Hook: "syscall", Prog: gotest.ProgSyscall, Sleepable: true},
	}
	if id, ok := structID(target, "tcp_congestion_ops"); ok {
		hooks = append(hooks, gotest.KfuncProbe{Hook: "struct_ops", Prog: gotest.ProgStructOps, AttachBTFID: uint32(id)})
	}
	return append(hooks, gotest.KfuncProbe{Hook: "socket_filter", Prog: gotest.ProgSocketFilter})
}

// structID is the id of the first STRUCT called name in spec.
func structID(spec *btf.Spec, name string) (btf.TypeID, bool) {
	for id := btf.TypeID(1); id < spec.NumIDs(); id++ {
		if t, err := spec.Type(id); err == nil && t.Kind() == btf.KindStruct && spec.Name(t) == name {
			return id, true
		}
	}
	return 0, false
}

// kfuncWant is one kfunc as the model has it: its name and its id in
// /sys/kernel/btf/<module>.
type kfuncWant struct {
	Name string
	ID   btf.TypeID
}

// kfuncProbes adds to st a probe per hook for each kfunc of ids, at the id
// the model gives it after relocation, which must be a FUNC, and the
// nf_conn.mark write probe where the module has the kfuncs for it (native:
// st is the running kernel's own build of the module).
func (p *preparer) kfuncProbes(st *step, ids idsPrep, native bool) error {
	pred := st.row.pred
	if pred.Outcome != load.KeepsBTF || len(ids.kfuncs) == 0 {
		return nil
	}
	for _, k := range ids.kfuncs {
		rid, err := pred.RelocateID(k.ID)
		if err != nil {
			return fmt.Errorf("kfunc set %s: %w", k.Set, err)
		}
		t, err := pred.Model.Type(rid)
		if err != nil || t.Kind() != btf.KindFunc {
			return fmt.Errorf("kfunc set %s: entry [%d] relocates to [%d], not a FUNC (%v)", k.Set, k.ID, rid, err)
		}
		name := pred.Model.Name(t)
		st.row.kfuncs = append(st.row.kfuncs, kfuncWant{name, rid})
		for _, h := range p.probes {
			h.Name, h.ID = name, uint32(rid)
			st.Kfuncs = append(st.Kfuncs, h)
		}
	}
	for _, k := range st.row.kfuncs {
		c, ok := knownCalls[k.Name]
		if !ok {
			continue
		}
		name := fmt.Sprintf("call %s(%d)", k.Name, c.Arg)
		st.Kfuncs = append(st.Kfuncs, gotest.KfuncProbe{Name: name, ID: uint32(k.ID), Hook: "syscall", Prog: gotest.ProgSyscall,
			Sleepable: true, Insns: gotest.CallInsns(uint32(k.ID), c.Arg, p.B.vmlinux.Order()), Run: true})
		ret := c.Ret
		st.row.progs = append(st.row.progs, progWant{Name: name, Allowed: true, Ret: &ret,
			Why: fmt.Sprintf("%s, called by its relocated id [%d] from a SYSCALL program, returns %d (%s)", k.Name, k.ID, c.Ret, c.Why)})
	}
	if probe, ok := ctMarkProbe(st.row.kfuncs, p.B.vmlinux); ok {
		st.Kfuncs = append(st.Kfuncs, probe)
		w := progWant{Name: probe.Name, Allowed: native}
		if native {
			w.Why = "the kernel's own build: btf_nf_conn_ids holds the running kernel's ids"
		} else {
			w.Why = "btf_nf_conn_ids (a BTF_ID_LIST of .BTF_ids) holds distilled ids, which the kernel never maps " +
				"(btf_relocate_id serves kfunc sets and dtor kfuncs only): the check compares with other types"
		}
		st.row.progs = append(st.row.progs, w)
	}
	return nil
}

// The nf_conn.mark write probe. nf_conntrack lets a BPF program write one
// member of an nf_conn it looked up, mark, after checking the pointer's
// type against btf_nf_conn_ids, a BTF_ID_LIST of its own .BTF_ids
// (_nf_conntrack_btf_struct_access): "only read is supported" when the
// type is neither nf_conn nor nf_conn___init by those ids. The program
// (XDP): look a TCP connection up with bpf_xdp_ct_lookup, and if found
// write its mark and release it with bpf_ct_release.

// ctMarkName names the probe in records and reports.
const ctMarkName = "nf_conn.mark write"

// progWant is what a program probe should get: loaded or refused, and
// for a call (Ret set) the kfunc's result.
type progWant struct {
	Name    string
	Allowed bool
	Why     string
	Ret     *uint32
}

// knownCalls are the kfuncs of our test modules whose result is known:
// called with Arg they return Ret. A call by the relocated id that
// returns it shows the id names the function the module registered, not
// only a function of the right prototype.
var knownCalls = map[string]struct {
	Arg int32
	Ret uint32
	Why string
}{
	"btfrecon_test_kfunc": {1000, 1000 + 0x600d, "kernel-patch/testmod: x + 0x600d"},
}

// ProgCheck is a program probe's answer against what it should get.
type ProgCheck struct {
	Name    string `json:"name"`
	Want    string `json:"want"` // "allowed" or "refused"
	Got     string `json:"got"`  // "allowed" or the verifier's message
	Why     string `json:"why"`
	OK      bool   `json:"ok"`
	Control bool   `json:"control,omitempty"` // on the kernel's own build
}

// ctMarkProbe builds the probe for a module whose kfuncs include
// bpf_xdp_ct_lookup and bpf_ct_release, against target's nf_conn layout.
func ctMarkProbe(kf []kfuncWant, target *btf.Spec) (gotest.KfuncProbe, bool) {
	var lookup, release btf.TypeID
	for _, k := range kf {
		switch k.Name {
		case "bpf_xdp_ct_lookup":
			lookup = k.ID
		case "bpf_ct_release":
			release = k.ID
		}
	}
	mark, ok := memberOffset(target, "nf_conn", "mark")
	if lookup == 0 || release == 0 || !ok {
		return gotest.KfuncProbe{}, false
	}
	return gotest.KfuncProbe{Name: ctMarkName, Hook: "xdp", Prog: gotest.ProgXDP, ID: uint32(lookup),
		Insns: ctMarkInsns(uint32(lookup), uint32(release), int16(mark), target.Order())}, true
}

// memberOffset is the byte offset of member of the first STRUCT called
// name in spec.
func memberOffset(spec *btf.Spec, name, member string) (uint32, bool) {
	id, ok := structID(spec, name)
	if !ok {
		return 0, false
	}
	t, _ := spec.Type(id)
	for i := range t.Vlen() {
		// btf_member: name_off, type, offset (bits; the kind flag packs a
		// bitfield size in the top 8).
		m := t.W[3+3*i : 6+3*i]
		if n, _ := spec.String(m[0]); n == member {
			off := m[2]
			if t.KindFlag() {
				off &= 0xffffff
			}
			return off / 8, true
		}
	}
	return 0, false
}

// ctMarkInsns is the probe program (see above), in byte order bo.
func ctMarkInsns(lookup, release uint32, mark int16, bo binary.ByteOrder) []byte {
	var out []byte
	ins := func(code, dst, src uint8, off int16, imm int32) {
		out = append(out, gotest.Insn(bo, code, dst, src, off, imm)...)
	}
	const (
		movK, movX, addK = 0xb7, 0xbf, 0x07 // BPF_ALU64 | MOV/ADD | K/X
		stDW, stW, stB   = 0x7a, 0x62, 0x72 // BPF_ST | BPF_MEM | size
		stxW             = 0x63             // BPF_STX | BPF_MEM | BPF_W
		call, jeqK, exit = 0x85, 0x15, 0x95
		kfunc            = 2 // BPF_PSEUDO_KFUNC_CALL
		fp               = 10
	)
	ins(movX, 6, 1, 0, 0)    // r6 = ctx
	ins(stDW, fp, 0, -16, 0) // struct bpf_sock_tuple (ipv4, 12 bytes) at fp-16: zero
	ins(stDW, fp, 0, -8, 0)  //
	ins(stDW, fp, 0, -32, 0) // struct bpf_ct_opts (16 bytes) at fp-32: zero,
	ins(stDW, fp, 0, -24, 0) //
	ins(stW, fp, 0, -32, -1) // netns_id = BPF_F_CURRENT_NETNS,
	ins(stB, fp, 0, -24, 6)  // l4proto = IPPROTO_TCP
	ins(movX, 1, 6, 0, 0)    // r1 = ctx
	ins(movX, 2, fp, 0, 0)   // r2 = &tuple
	ins(addK, 2, 0, 0, -16)  //
	ins(movK, 3, 0, 0, 12)   // r3 = sizeof the ipv4 tuple
	ins(movX, 4, fp, 0, 0)   // r4 = &opts
	ins(addK, 4, 0, 0, -32)  //
	ins(movK, 5, 0, 0, 16)   // r5 = NF_BPF_CT_OPTS_SZ
	ins(call, 0, kfunc, 1, int32(lookup))
	ins(jeqK, 0, 0, 4, 0)    // if !ct goto out
	ins(movK, 1, 0, 0, 1)    //
	ins(stxW, 0, 1, mark, 0) // ct->mark = 1: the write under test
	ins(movX, 1, 0, 0, 0)    //
	ins(call, 0, kfunc, 1, int32(release))
	ins(movK, 0, 0, 0, 2) // out: return XDP_PASS
	ins(exit, 0, 0, 0, 0)
	return out
}

// judgePrograms reads the answers to a row's program probes.
func judgePrograms(row Row, answers []gotest.KfuncAnswer) Row {
	for _, w := range row.progs {
		c := ProgCheck{Name: w.Name, Want: "refused", Why: w.Why, Control: row.Role == RoleNative}
		if w.Allowed {
			c.Want = "allowed"
		}
		if w.Ret != nil {
			c.Want = fmt.Sprintf("returns %d", *w.Ret)
		}
		for _, a := range answers {
			if a.Name != w.Name {
				continue
			}
			c.Got = a.Log
			if a.Errno == 0 {
				c.Got = "allowed"
			}
			c.OK = (a.Errno == 0) == w.Allowed && (w.Allowed || strings.Contains(a.Log, "only read is supported"))
			if w.Ret != nil && a.Errno == 0 {
				c.Got = fmt.Sprintf("returned %d", a.Retval)
				if !a.Ran {
					c.Got = "did not run: " + a.RunErr
				}
				c.OK = a.Ran && a.Retval == *w.Ret
			}
		}
		if c.Got == "" {
			c.Got = "no answer"
		}
		if !c.OK {
			row.Agree = false
			row.Verdict = fmt.Sprintf("DISAGREE: %s %s, expected %s", w.Name, c.Got, c.Want)
		}
		row.Programs = append(row.Programs, c)
	}
	return row
}

// KfuncCheck is one kfunc of a module's kfunc sets as the kernel
// registered it: the hooks where the verifier found its relocated id in a
// registered set, and those where it did not.
type KfuncCheck struct {
	Name string `json:"name"`
	ID   uint32 `json:"id"` // in /sys/kernel/btf/<module>, as the model relocates it
	// Allowed and NotAllowed are hooks; Other the answers that read
	// neither way.
	Allowed    []string `json:"allowed"`
	NotAllowed []string `json:"not_allowed,omitempty"`
	Other      []string `json:"other,omitempty"`
	OK         bool     `json:"ok"`
}

// judgeKfuncs reads the verifier's answers for a row whose BTF was
// identical: every kfunc must be allowed under at least one hook, found
// there by the id the model predicts.
func judgeKfuncs(row Row, answers []gotest.KfuncAnswer) Row {
	bad := 0
	for _, w := range row.kfuncs {
		c := KfuncCheck{Name: w.Name, ID: uint32(w.ID)}
		for _, a := range answers {
			if a.Name != w.Name || a.ID != uint32(w.ID) {
				continue
			}
			switch v := a.Verdict(); {
			case v == gotest.KfuncAllowed:
				c.Allowed = append(c.Allowed, a.Hook)
			case v == gotest.KfuncNotAllowed && strings.Contains(a.Log, " "+w.Name+" "):
				// The verifier named the function it found at the id.
				c.NotAllowed = append(c.NotAllowed, a.Hook)
			default:
				c.Other = append(c.Other, a.Hook+": "+a.Log)
			}
		}
		c.OK = len(c.Allowed) > 0 && len(c.Other) == 0
		if !c.OK {
			bad++
		}
		row.Kfuncs = append(row.Kfuncs, c)
	}
	hooks := map[string]bool{}
	for _, c := range row.Kfuncs {
		for _, h := range c.Allowed {
			hooks[h] = true
		}
	}
	names := make([]string, 0, len(hooks))
	for h := range hooks {
		names = append(names, h)
	}
	slices.Sort(names)
	if bad > 0 {
		row.Agree = false
		row.Verdict = fmt.Sprintf("DISAGREE: %d of %d kfuncs not found by their relocated ids in a registered set", bad, len(row.kfuncs))
		return row
	}
	row.Verdict = fmt.Sprintf("identical; %d kfuncs found by relocated id (%s)", len(row.kfuncs), strings.Join(names, ", "))
	return row
}
