package recon

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Profile is how one kernel's build of an external module makes the
// module's .BTF and .BTF.base out of the split BTF pahole encoded on the
// build's vmlinux. Each is read from that kernel's own scripts; ProfileFor
// picks one from the kernel's version and config, never by guessing.
type Profile int

const (
	// ProfileLibbpf15 is Linux 6.12's flow (scripts/Makefile.btf with
	// CONFIG_PAHOLE_VERSION >= 126): pahole runs with
	// --btf_features=distilled_base and distills with libbpf's
	// btf__distill_base (libbpf 1.5 on trixie): Distill's two outputs, 24-byte
	// headers, ids as they come. resolve_btfids then resolves .BTF_ids
	// against that numbering.
	ProfileLibbpf15 Profile = iota + 1
	// Profile72 is Linux 7.2's flow (scripts/gen-btf.sh): pahole writes the
	// split, then `resolve_btfids --distill_base` distills it with its own
	// libbpf 1.8 (32-byte headers, no kind-layout section) and sorts the
	// new split by name (sort_btf_by_name, then btf__permute) before it
	// resolves .BTF_ids: SortByName.
	Profile72
)

func (p Profile) String() string {
	switch p {
	case ProfileLibbpf15:
		return "6.12 (pahole distilled_base, libbpf 1.5)"
	case Profile72:
		return "7.2 (resolve_btfids --distill_base, libbpf 1.8, sorted by name)"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// ErrNoProfile: no distillation profile is known for the kernel, or its
// build makes no distilled base at all.
var ErrNoProfile = errors.New("no distillation profile for this kernel")

// ProfileFor returns the profile of the kernel release (e.g. "6.12.107",
// "7.2.13+deb14") whose build config is cfg (keys with their CONFIG_
// prefix, as harness/kernels reads them). It knows the kernels whose
// scripts were read: 6.12 and 7.2. Any other version, a kernel without
// module BTF, or a 6.12 configured for a pahole older than 1.26 (whose
// external modules get no .BTF.base: Debian 12's 1.24) is ErrNoProfile,
// with the reason.
func ProfileFor(release string, cfg map[string]string) (Profile, error) {
	ver, _, _ := strings.Cut(release, "+")
	f := strings.Split(ver, ".")
	if len(f) < 2 {
		return 0, fmt.Errorf("kernel %q: %w: not a kernel version", release, ErrNoProfile)
	}
	major, err1 := strconv.Atoi(f[0])
	minor, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("kernel %q: %w: not a kernel version", release, ErrNoProfile)
	}
	if v := cfg["CONFIG_DEBUG_INFO_BTF_MODULES"]; v != "y" {
		return 0, fmt.Errorf("kernel %s: %w: CONFIG_DEBUG_INFO_BTF_MODULES is %q, its modules get no BTF", release, ErrNoProfile, v)
	}
	pv, perr := strconv.Atoi(cfg["CONFIG_PAHOLE_VERSION"])
	switch {
	case major == 6 && minor == 12:
		if perr != nil {
			return 0, fmt.Errorf("kernel %s: %w: CONFIG_PAHOLE_VERSION is %q, not a number", release, ErrNoProfile, cfg["CONFIG_PAHOLE_VERSION"])
		}
		if pv < 126 {
			return 0, fmt.Errorf("kernel %s: %w: CONFIG_PAHOLE_VERSION=%d: 6.12's scripts/Makefile.btf asks pahole for distilled_base only from 126 on, so its external modules get no .BTF.base", release, ErrNoProfile, pv)
		}
		return ProfileLibbpf15, nil
	case major == 7 && minor == 2:
		// gen-btf.sh distills in resolve_btfids whatever the pahole.
		return Profile72, nil
	}
	return 0, fmt.Errorf("kernel %s: %w: only 6.12 and 7.2 have been read (scripts/Makefile.btf, scripts/gen-btf.sh)", release, ErrNoProfile)
}

// Distilled is a profile's output: the distilled base and the new split as
// the kernel's build writes them into .BTF.base and .BTF.
type Distilled struct {
	Base, Split *btf.Spec
	// Perm is the name sort's renumbering of the new split (Profile72):
	// Perm[id-first] is the final id of the type Distill put at id, first
	// being Base.NumIDs(). nil when the profile keeps Distill's order.
	Perm []btf.TypeID
}

// Distill runs the profile's flow on split, parsed on its full base.
func (p Profile) Distill(base, split *btf.Spec) (*Distilled, error) {
	switch p {
	case ProfileLibbpf15, Profile72:
	default:
		return nil, fmt.Errorf("distill: %v: %w", p, ErrNoProfile)
	}
	d, s, err := Distill(base, split)
	if err != nil {
		return nil, err
	}
	if p == ProfileLibbpf15 {
		return &Distilled{Base: d, Split: s}, nil
	}
	if d, err = withHeader32(d, nil); err != nil {
		return nil, err
	}
	if s, err = withHeader32(s, d); err != nil {
		return nil, err
	}
	sorted, perm, err := SortByName(s)
	if err != nil {
		return nil, err
	}
	return &Distilled{Base: d, Split: sorted, Perm: perm}, nil
}

// headerLen18 is the BTF header libbpf 1.8 writes for a BTF it built
// (btf_new_empty: sizeof(struct btf_header) with layout_off and layout_len,
// both 0 when no kind-layout section is asked for, as btf__distill_base
// never does).
const headerLen18 = 32

// withHeader32 re-encodes s (24-byte header) with libbpf 1.8's 32-byte one:
// hdr_len 32 and eight zero bytes, sections unchanged.
func withHeader32(s *btf.Spec, base *btf.Spec) (*btf.Spec, error) {
	raw := s.Marshal()
	if n := s.Header().HdrLen; n != btf.HeaderLen {
		return nil, fmt.Errorf("distill: header of %d bytes, want %d", n, btf.HeaderLen)
	}
	out := make([]byte, 0, len(raw)+headerLen18-btf.HeaderLen)
	out = append(out, raw[:btf.HeaderLen]...)
	s.Order().PutUint32(out[4:], headerLen18)
	out = append(out, make([]byte, headerLen18-btf.HeaderLen)...)
	out = append(out, raw[btf.HeaderLen:]...)
	if base == nil {
		return btf.Parse(out)
	}
	return btf.ParseSplit(out, base)
}

// SortByName is resolve_btfids' sort_btf_by_name on a split BTF (Linux
// 7.2): the split's own types ordered by name, bytewise ascending (so the
// anonymous ones come first), types of equal name in their original order;
// then btf__permute: the types' words moved to their new places and every id
// field that names a split type renumbered (ids below the split's first,
// base ids and void, stay). Strings and the header are untouched; the type
// section keeps its length. perm[id-first] is the new id of the type at id.
func SortByName(split *btf.Spec) (*btf.Spec, []btf.TypeID, error) {
	base := split.Base()
	if base == nil {
		return nil, nil, &Error{Op: "sort", Reason: ErrNotSplit, Detail: "resolve_btfids sorts a module's split BTF"}
	}
	n := split.NumLocal()
	first := split.FirstID()
	names := make([][]byte, n)
	for i := range n {
		t := split.Local(i)
		if t.NameOff() == 0 {
			continue
		}
		b, err := split.StringBytes(t.NameOff())
		if err != nil {
			return nil, nil, stringRange("sort", t, 0, split.StrEnd())
		}
		names[i] = b
	}
	order := make([]int, n) // order[new index] = old index
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(names[a], names[b]) })
	perm := make([]btf.TypeID, n)
	for ni, oi := range order {
		perm[oi] = first + btf.TypeID(ni)
	}

	words, _ := split.Words()
	out := make([]uint32, 0, len(words))
	var fields []int
	for _, oi := range order {
		t := split.Local(oi)
		at := len(out)
		out = append(out, t.W...)
		w := out[at:]
		fields = t.IDFields(fields[:0])
		for _, f := range fields {
			id := btf.TypeID(w[f])
			if id < first {
				continue
			}
			if id >= split.NumIDs() {
				return nil, nil, idRange("sort", t, f, split.NumIDs())
			}
			w[f] = uint32(perm[id-first])
		}
	}

	raw := split.Marshal()
	h := split.Header()
	at := int(h.HdrLen + h.TypeOff)
	if int(h.TypeLen) != 4*len(out) {
		return nil, nil, fmt.Errorf("sort: type section of %d bytes, %d words re-encoded", h.TypeLen, len(out))
	}
	bo := split.Order()
	for i, w := range out {
		bo.PutUint32(raw[at+4*i:], w)
	}
	sorted, err := btf.ParseSplit(raw, base)
	if err != nil {
		return nil, nil, fmt.Errorf("sort: the permuted split does not decode: %w", err)
	}
	return sorted, perm, nil
}
