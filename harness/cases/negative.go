package cases

import (
	"fmt"
	"sort"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// The negatives: a well-formed distilled base that the target cannot take.
// Each expects the reason the contract gives for it, provided the input's
// own pair relocates (the callers pick such modules).

func renamed() Case {
	return Case{Name: "renamed", Class: Negative,
		Changes: "a distilled struct renamed to a name the target does not have",
		Model:   recon.ErrNoCandidate, Build: buildRenamed}
}

func buildRenamed(in Input) (Made, error) {
	i := firstNamedStruct(in.D)
	if i < 0 {
		return Made{}, fmt.Errorf("renamed: no named distilled struct: %w", ErrNotApplicable)
	}
	names, _ := byName(in.Target)
	old := in.D.Name(in.D.Local(i))
	for _, c := range "QXZJ" {
		n := old[:len(old)-1] + string(c)
		if _, taken := names[n]; taken || n == old {
			continue
		}
		d, err := in.D.Renamed(i, n)
		if err != nil {
			return Made{}, err
		}
		return Made{What: fmt.Sprintf("distilled struct %q renamed %q", old, n), Split: in.S.Marshal(), Base: d.Marshal()}, nil
	}
	return Made{}, fmt.Errorf("renamed: every new name for %q is taken: %w", old, ErrNotApplicable)
}

func embeddedSize() Case {
	return Case{Name: "embedded-size", Class: Negative,
		Changes: "a distilled struct the split embeds grows by 8 bytes",
		Model:   recon.ErrEmbeddedSize, Build: buildEmbeddedSize}
}

// buildEmbeddedSize grows an embedded distilled composite whose name the
// target holds as exactly one STRUCT/UNION (so the key is the name alone
// and the one candidate is refused for its size, not left out by its key).
func buildEmbeddedSize(in Input) (Made, error) {
	emb := embeddedIn(in.D, in.S)
	names, _ := byName(in.Target)
	for i := range in.D.NumLocal() {
		t := in.D.Local(i)
		if !isComposite(t.Kind()) || !emb[t.ID] || t.NameOff() == 0 {
			continue
		}
		ts := names[in.D.Name(t)]
		if compositesNamed(ts) != 1 {
			continue
		}
		grown := t.SizeType() + 8
		clash := false
		for _, bt := range ts {
			clash = clash || bt.SizeType() == grown
		}
		if clash {
			continue
		}
		return Made{What: fmt.Sprintf("embedded %s %q size %d -> %d", t.Kind(), in.D.Name(t), t.SizeType(), grown),
			Split: in.S.Marshal(), Base: in.D.WithWord(i, 2, grown).Marshal()}, nil
	}
	return Made{}, fmt.Errorf("embedded-size: no embedded distilled struct with a unique target name: %w", ErrNotApplicable)
}

func twoCandidates() Case {
	return Case{Name: "two-candidates", Class: Negative,
		Changes: "a distilled struct given a name (and size) two target types both accept",
		Model:   recon.ErrMultiple, Build: buildTwoCandidates}
}

// buildTwoCandidates renames a distilled struct (same length, in place) to
// a target name that gives it two accepted candidates: two target types
// whose match key admits the name and size, accepted because a distilled
// struct is matched with no kind check, and, when the split embeds it,
// both of its size.
func buildTwoCandidates(in Input) (Made, error) {
	emb := embeddedIn(in.D, in.S)
	names, sorted := byName(in.Target)
	byLen := map[int][]string{}
	for _, n := range sorted {
		byLen[len(n)] = append(byLen[len(n)], n)
	}
	for i := range in.D.NumLocal() {
		dt := in.D.Local(i)
		if dt.Kind() != btf.KindStruct || dt.NameOff() == 0 {
			continue
		}
		old := in.D.Name(dt)
		for _, n := range byLen[len(old)] {
			ts := names[n]
			comps := compositesNamed(ts)
			for _, size := range sizesOf(ts, dt.SizeType()) {
				accepted := 0
				for _, bt := range ts {
					k, ok := recon.TargetKey(in.Target, bt, comps)
					if ok && k.Admits(n, size) && (!emb[dt.ID] || bt.SizeType() == size) {
						accepted++
					}
				}
				if accepted < 2 {
					continue
				}
				d, err := in.D.Renamed(i, n)
				if err != nil {
					return Made{}, err
				}
				return Made{What: fmt.Sprintf("distilled struct %q size %d renamed %q size %d (%d target types accept it)",
					old, dt.SizeType(), n, size, accepted),
					Split: in.S.Marshal(), Base: d.WithWord(i, 2, size).Marshal()}, nil
			}
		}
	}
	return Made{}, fmt.Errorf("two-candidates: no target name of a distilled struct's length has two candidates: %w", ErrNotApplicable)
}

// sizesOf is own followed by the sizes of ts, each once, in order.
func sizesOf(ts []btf.Type, own uint32) []uint32 {
	seen := map[uint32]bool{own: true}
	out := []uint32{own}
	var rest []uint32
	for _, t := range ts {
		if !seen[t.SizeType()] {
			seen[t.SizeType()] = true
			rest = append(rest, t.SizeType())
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	return append(out, rest...)
}
