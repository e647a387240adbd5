package kernels

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrIndex is archive index text (apt-cache show output, a Packages file)
// that is not a sequence of deb822 stanzas.
var ErrIndex = errors.New("malformed archive index")

// IndexEntry is one binary package stanza of the archive's index: the
// fields resolution needs, as apt-cache show prints them.
type IndexEntry struct {
	Package      string
	Version      string
	Architecture string
	Filename     string
	SHA256       string
	Size         int64
	Line         int // line of the stanza's first field, for messages
}

var (
	indexSHA256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	indexFieldRE  = regexp.MustCompile(`^[!-9;-~][!-9;-~]*$`) // deb822 field names: printable, no ':' or space
)

// ParseIndex reads deb822 stanzas (Debian policy 5.1: "Field: value" lines,
// continuation lines starting with a space or tab, stanzas separated by blank
// lines; field names are case-insensitive) and returns every stanza's
// package fields. A stanza must have Package, Version, Architecture and a
// well-formed SHA256 and Size; a field may appear only once per stanza.
// name is for messages.
func ParseIndex(name string, data []byte) ([]IndexEntry, error) {
	var out []IndexEntry
	fields := map[string]string{}
	var last string
	start := 0
	flush := func() error {
		if len(fields) == 0 {
			return nil
		}
		e, err := indexEntry(fields)
		if err != nil {
			return fmt.Errorf("%s:%d: %w: %v", name, start, ErrIndex, err)
		}
		e.Line = start
		out = append(out, e)
		clear(fields)
		last = ""
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("%s:%d: %w: continuation line outside a field", name, n, ErrIndex)
			}
			fields[last] += "\n" + strings.TrimSpace(line)
		case line[0] == '#':
			// deb822 comments (not in indexes apt writes, but legal)
		default:
			key, val, ok := strings.Cut(line, ":")
			if !ok || !indexFieldRE.MatchString(key) || key[0] == '-' {
				return nil, fmt.Errorf("%s:%d: %w: not a \"Field: value\" line: %q", name, n, ErrIndex, line)
			}
			key = strings.ToLower(key)
			if _, dup := fields[key]; dup {
				return nil, fmt.Errorf("%s:%d: %w: field %s repeated in one stanza", name, n, ErrIndex, key)
			}
			if len(fields) == 0 {
				start = n
			}
			fields[key] = strings.TrimSpace(val)
			last = key
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrIndex, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func indexEntry(f map[string]string) (IndexEntry, error) {
	e := IndexEntry{Package: f["package"], Version: f["version"], Architecture: f["architecture"], Filename: f["filename"], SHA256: f["sha256"]}
	for _, req := range []struct{ name, val string }{{"Package", e.Package}, {"Version", e.Version}, {"Architecture", e.Architecture}} {
		if req.val == "" || strings.ContainsAny(req.val, " \t\n") {
			return IndexEntry{}, fmt.Errorf("stanza of %q: bad or missing %s %q", e.Package, req.name, req.val)
		}
	}
	if !indexSHA256RE.MatchString(e.SHA256) {
		return IndexEntry{}, fmt.Errorf("%s: bad or missing SHA256 %q", e.Package, e.SHA256)
	}
	size, err := strconv.ParseInt(f["size"], 10, 64)
	if err != nil || size <= 0 {
		return IndexEntry{}, fmt.Errorf("%s: bad or missing Size %q", e.Package, f["size"])
	}
	e.Size = size
	return e, nil
}

// ParseSearch returns the package names of `apt-cache search --names-only`
// output ("name - short description" lines), in order.
func ParseSearch(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		name, _, ok := strings.Cut(line, " - ")
		if name = strings.TrimSpace(name); ok && name != "" && !strings.ContainsAny(name, " \t") {
			out = append(out, name)
		}
	}
	return out
}
