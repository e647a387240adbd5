package kbuild

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ErrFragment is a fragment line that did not take: olddefconfig dropped
// or changed it (a dependency missing, a symbol this tree lacks).
var ErrFragment = errors.New("config fragment lines did not take")

// option is one line a fragment asks for: Value "" means "is not set".
type option struct {
	Name, Value string
	File        string
	Line        int
}

// parseFragments reads the fragments in order; a later one setting the same
// symbol wins, as with merge_config.sh.
func parseFragments(paths []string) ([]option, error) {
	byName := map[string]option{}
	var order []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("config fragment: %w", err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			n++
			o, ok := parseConfigLine(sc.Text())
			if !ok {
				continue
			}
			o.File, o.Line = p, n
			if _, seen := byName[o.Name]; !seen {
				order = append(order, o.Name)
			}
			byName[o.Name] = o
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("config fragment %s: %w", p, err)
		}
	}
	out := make([]option, 0, len(order))
	for _, n := range order {
		out = append(out, byName[n])
	}
	return out, nil
}

// parseConfigLine reads "CONFIG_X=v" or "# CONFIG_X is not set".
func parseConfigLine(s string) (option, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "CONFIG_") {
		name, val, ok := strings.Cut(s, "=")
		if !ok {
			return option{}, false
		}
		return option{Name: name, Value: val}, true
	}
	if rest, ok := strings.CutPrefix(s, "# CONFIG_"); ok {
		if name, ok := strings.CutSuffix(rest, " is not set"); ok {
			return option{Name: "CONFIG_" + name}, true
		}
	}
	return option{}, false
}

// readConfig reads a .config into symbol -> value (set symbols only).
func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if o, ok := parseConfigLine(sc.Text()); ok && o.Value != "" {
			cfg[o.Name] = o.Value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kernel config %s: %w", path, err)
	}
	return cfg, nil
}

// checkFragments names every fragment line the final .config does not
// honour ("=n" counts as not set, as kconfig writes it).
func checkFragments(opts []option, cfg map[string]string) error {
	var bad []string
	for _, o := range opts {
		got, set := cfg[o.Name]
		want := o.Value
		switch {
		case want == "" || want == "n":
			if set {
				bad = append(bad, fmt.Sprintf("%s:%d: %s is not set wanted, .config has %s=%s",
					o.File, o.Line, o.Name, o.Name, got))
			}
		case !set:
			bad = append(bad, fmt.Sprintf("%s:%d: %s=%s wanted, .config leaves it unset",
				o.File, o.Line, o.Name, want))
		case got != want:
			bad = append(bad, fmt.Sprintf("%s:%d: %s=%s wanted, .config has %s=%s",
				o.File, o.Line, o.Name, want, o.Name, got))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("%w (%d):\n  %s", ErrFragment, len(bad), strings.Join(bad, "\n  "))
}
