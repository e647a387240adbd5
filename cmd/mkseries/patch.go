package main

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A spec says how one patch of the series is made: its mail header and
// commit message, the hunks kept by hand (build glue), and the files it adds
// verbatim from elsewhere in kernel-patch/.
type spec struct {
	out  string    // the patch, relative to kernel-patch/
	msg  string    // everything before the "---" line
	diff string    // hand-kept diffs of existing files, git diff format
	add  []newFile // files the patch creates
}

type newFile struct{ src, dst string }

// patch1 is series/0001: the core, byte for byte, as kernel/bpf/.
var patch1 = spec{
	out:  "series/0001-bpf-Add-a-reconciler-for-module-BTF-built-on-a-disti.patch",
	msg:  "series-src/0001.msg",
	diff: "series-src/0001-build.diff",
	add: []newFile{
		{"core/btf_reconcile.c", "kernel/bpf/btf_reconcile.c"},
		{"core/btf_reconcile.h", "kernel/bpf/btf_reconcile.h"},
	},
}

// What git format-patch chose when the series was made: the abbreviation
// its object count gave on the 6.1 tree, its stat width, and its version
// in the signature.
const (
	abbrev    = 9
	statWidth = 72
	signature = "-- \n2.39.5\n\n"
)

// fileDiff is one "diff --git" section and its line counts.
type fileDiff struct {
	path     string
	text     string
	add, del int
	created  bool
	inHunk   bool // past the file's header lines
}

// generate builds the patch s from the files under kp (kernel-patch/).
func generate(kp string, s spec) ([]byte, error) {
	msg, err := os.ReadFile(filepath.Join(kp, s.msg))
	if err != nil {
		return nil, err
	}
	kept, err := os.ReadFile(filepath.Join(kp, s.diff))
	if err != nil {
		return nil, err
	}
	files, err := splitDiffs(string(kept))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.diff, err)
	}
	for _, f := range s.add {
		data, err := os.ReadFile(filepath.Join(kp, f.src))
		if err != nil {
			return nil, err
		}
		d, err := creation(f.dst, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.src, err)
		}
		files = append(files, d)
	}
	// git orders a diff by path
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })

	var b bytes.Buffer
	b.Write(msg)
	b.WriteString("---\n")
	st, err := diffstat(files)
	if err != nil {
		return nil, err
	}
	b.WriteString(st)
	b.WriteString("\n")
	for _, f := range files {
		b.WriteString(f.text)
	}
	b.WriteString(signature)
	return b.Bytes(), nil
}

// splitDiffs cuts git diff text into its files and counts their lines.
func splitDiffs(text string) ([]fileDiff, error) {
	var out []fileDiff
	for _, sec := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(sec, "diff --git ") {
			f := strings.Fields(sec)
			if len(f) != 4 || !strings.HasPrefix(f[3], "b/") {
				return nil, fmt.Errorf("bad diff line %q", strings.TrimSpace(sec))
			}
			out = append(out, fileDiff{path: f[3][2:]})
		}
		if len(out) == 0 {
			if sec != "" {
				return nil, fmt.Errorf("text before the first diff: %q", strings.TrimSpace(sec))
			}
			continue
		}
		d := &out[len(out)-1]
		d.text += sec
		switch {
		case strings.HasPrefix(sec, "@@ "):
			d.inHunk = true
		case !d.inHunk:
			d.created = d.created || strings.HasPrefix(sec, "new file mode ")
		case strings.HasPrefix(sec, "+"):
			d.add++
		case strings.HasPrefix(sec, "-"):
			d.del++
		}
	}
	return out, nil
}

// creation is the diff that adds data as path, as git writes it.
func creation(path string, data []byte) (fileDiff, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return fileDiff{}, fmt.Errorf("empty or no newline at the end: not supported")
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1]
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	id := fmt.Sprintf("%x", h.Sum(nil))[:abbrev]

	var b strings.Builder
	fmt.Fprintf(&b, "diff --git a/%s b/%s\nnew file mode 100644\n", path, path)
	fmt.Fprintf(&b, "index %s..%s\n--- /dev/null\n+++ b/%s\n", strings.Repeat("0", abbrev), id, path)
	if len(lines) == 1 {
		b.WriteString("@@ -0,0 +1 @@\n")
	} else {
		fmt.Fprintf(&b, "@@ -0,0 +1,%d @@\n", len(lines))
	}
	for _, l := range lines {
		b.WriteString("+" + l)
	}
	return fileDiff{path: path, text: b.String(), add: len(lines), created: true}, nil
}

// diffstat is git's --stat at statWidth columns (diff.c show_stats), then
// the summary and the created files.
func diffstat(files []fileDiff) (string, error) {
	maxLen, maxChange, adds, dels := 0, 0, 0, 0
	for _, f := range files {
		maxLen = max(maxLen, len(f.path))
		maxChange = max(maxChange, f.add+f.del)
		adds += f.add
		dels += f.del
	}
	numWidth := len(fmt.Sprint(maxChange))
	nameWidth, graphWidth := maxLen, maxChange
	if nameWidth+numWidth+6+graphWidth > statWidth {
		if graphWidth > statWidth*3/8-numWidth-6 {
			graphWidth = max(statWidth*3/8-numWidth-6, 6)
		}
		if nameWidth > statWidth-numWidth-6-graphWidth {
			return "", fmt.Errorf("path too long for the stat: git would shorten it")
		}
		graphWidth = statWidth - numWidth - 6 - nameWidth
	}
	scale := func(n int) int { // at least one column for any change
		if n == 0 {
			return 0
		}
		return 1 + n*(graphWidth-1)/maxChange
	}
	var b strings.Builder
	for _, f := range files {
		add, del := f.add, f.del
		if graphWidth <= maxChange {
			total := scale(add + del)
			if total < 2 && add > 0 && del > 0 {
				total = 2
			}
			if add < del {
				add = scale(add)
				del = total - add
			} else {
				del = scale(del)
				add = total - del
			}
		}
		sep := ""
		if f.add+f.del > 0 {
			sep = " "
		}
		fmt.Fprintf(&b, " %-*s | %*d%s%s%s\n", nameWidth, f.path, numWidth, f.add+f.del, sep,
			strings.Repeat("+", add), strings.Repeat("-", del))
	}
	fmt.Fprintf(&b, " %d file%s changed", len(files), plural(len(files)))
	if adds > 0 || dels == 0 {
		fmt.Fprintf(&b, ", %d insertion%s(+)", adds, plural(adds))
	}
	if dels > 0 || adds == 0 {
		fmt.Fprintf(&b, ", %d deletion%s(-)", dels, plural(dels))
	}
	b.WriteString("\n")
	for _, f := range files {
		if f.created {
			fmt.Fprintf(&b, " create mode 100644 %s\n", f.path)
		}
	}
	return b.String(), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
