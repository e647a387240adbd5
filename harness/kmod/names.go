package kmod

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownModule: a module name that no package holds.
var ErrUnknownModule = errors.New("unknown module")

// CheckNames normalises wanted module names as the kernel compares them
// ('-' and '_' alike, no .ko/.ko.xz) and refuses any that have is false
// for, naming the closest of known for each.
func CheckNames(wanted []string, has func(string) bool, known []string) ([]string, error) {
	out := make([]string, 0, len(wanted))
	var bad []string
	for _, w := range wanted {
		n := ModName(strings.TrimSpace(w))
		if n == "" {
			continue
		}
		if !has(n) {
			bad = append(bad, fmt.Sprintf("%s (closest: %s)", w, strings.Join(Closest(n, known, 3), ", ")))
			continue
		}
		out = append(out, n)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownModule, strings.Join(bad, "; "))
	}
	return out, nil
}

// Closest returns up to n of names nearest to name by edit distance (ties
// by name), for "did you mean" lines.
func Closest(name string, names []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	var s []scored
	for _, c := range names {
		s = append(s, scored{c, editDistance(name, ModName(c))})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].d < s[j].d || s[i].d == s[j].d && s[i].name < s[j].name })
	var out []string
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
