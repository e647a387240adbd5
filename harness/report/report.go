// Package report holds what every btfrecon JSON report shares, so that
// compat, vm run and repro name the same things the same way: a header
// (schema, kind, architecture, the build and running kernels, the running
// kernel's MODULE_ALLOW_BTF_MISMATCH) and seconds rounded to 10 ms.
package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Schema names the JSON layout; it changes when a field changes meaning.
const Schema = "btfrecon-report/1"

// Header opens every JSON report.
type Header struct {
	Schema string `json:"schema"`
	Kind   string `json:"kind"` // "compat", "vm" (vm run and repro)
	Arch   string `json:"arch"`
	Build  string `json:"build"` // the kernel the modules were built for
	Run    string `json:"run"`   // the kernel they are loaded on
	// AllowMismatch is the running kernel's CONFIG_MODULE_ALLOW_BTF_MISMATCH.
	AllowMismatch bool `json:"module_allow_btf_mismatch"`
}

// NewHeader fills in the schema.
func NewHeader(kind, arch, build, run string, allow bool) Header {
	return Header{Schema: Schema, Kind: kind, Arch: arch, Build: build, Run: run, AllowMismatch: allow}
}

// Seconds is a duration in seconds, written rounded to 10 ms.
type Seconds float64

// MarshalJSON writes s with at most two decimals.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(float64(s)*100)/100, 'f', -1, 64), nil
}

// Width is the widest line a text report writes: it pastes into a mail to
// the BPF list.
const Width = 100

// Wrap writes prefix+text folded at Width on word boundaries, continuation
// lines indented by the prefix's width (at most 8); nothing for an empty
// text.
func Wrap(w io.Writer, prefix, text string) {
	if text == "" {
		return
	}
	indent := strings.Repeat(" ", min(len(prefix), 8))
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > Width && strings.TrimSpace(line) != strings.TrimSpace(prefix) {
			fmt.Fprintln(w, line)
			line = indent
		}
		if line != prefix && line != indent {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}
