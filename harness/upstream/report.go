package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// ErrReport: a report file is missing or is not the JSON btfrecon writes.
var ErrReport = errors.New("not a btfrecon report")

// Row is what the judgement reads of a scenario row (harness/scenario.Row
// as JSON).
type Row struct {
	Module    string   `json:"module"`
	Role      string   `json:"role"` // a case row's label: hostile:array-cycle
	Kernel    string   `json:"kernel"`
	Predicted string   `json:"predicted"`
	Reason    string   `json:"reason"`
	LoadErr   string   `json:"load_error"`
	Errno     int      `json:"errno"`
	Verdict   string   `json:"verdict"`
	Agree     bool     `json:"agree"`
	Edit      string   `json:"edit"`
	Kmsg      []string `json:"kmsg"`
	CrashSite string   `json:"crash_site"`
}

// Summary is what the judgement reads of a scenario's summary.
type Summary struct {
	Disagreements int      `json:"disagreements"`
	BootVerdict   string   `json:"boot_verdict"`
	BootDetail    string   `json:"boot_detail"`
	BootSeconds   float64  `json:"boot_seconds"`
	CrashSite     string   `json:"crash_site"`
	Splat         []string `json:"splat"`
	ConsoleLog    string   `json:"console_log"`
}

// Report is one scenario's report: a run of validate's, or vm run's.
type Report struct {
	Schema        string  `json:"schema"`
	Kind          string  `json:"kind"`
	Arch          string  `json:"arch"`
	Run           string  `json:"run"`
	AllowMismatch bool    `json:"module_allow_btf_mismatch"`
	Rows          []Row   `json:"modules"`
	Summary       Summary `json:"summary"`
}

// Disagree is scenario.Report.Disagree: a row disagrees or the boot did
// not end cleanly.
func (r *Report) Disagree() bool {
	return r.Summary.Disagreements > 0 || r.Summary.BootVerdict != "clean"
}

// Build is one of validate's kernels.
type Build struct {
	Key     string  `json:"key"`
	Dir     string  `json:"dir"`
	Seed    string  `json:"seed"`
	Seconds float64 `json:"seconds"`
}

// Run is one of validate's scenarios.
type Run struct {
	Name   string `json:"name"`
	Report Report `json:"report"`
}

// Validate is `btfrecon validate --json`.
type Validate struct {
	Schema  string  `json:"schema"`
	Kind    string  `json:"kind"`
	Arch    string  `json:"arch"`
	Tree    string  `json:"tree"`
	Version string  `json:"version"`
	Builds  []Build `json:"builds"`
	Phases  []struct {
		Phase   string  `json:"phase"`
		Seconds float64 `json:"seconds"`
	} `json:"phases"`
	Runs    []Run   `json:"runs"`
	Agree   bool    `json:"agree"`
	Seconds float64 `json:"seconds"`
}

// decode reads one JSON report of the given kind from path.
func decode(path, kind string, v any, got func() (string, string)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReport, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrReport, path, err)
	}
	if schema, k := got(); schema != "btfrecon-report/1" || k != kind {
		return fmt.Errorf("%w: %s: schema %q kind %q, want btfrecon-report/1 %q", ErrReport, path, schema, k, kind)
	}
	return nil
}

// ReadValidate reads validate's --json.
func ReadValidate(path string) (*Validate, error) {
	var v Validate
	if err := decode(path, "validate", &v, func() (string, string) { return v.Schema, v.Kind }); err != nil {
		return nil, err
	}
	if len(v.Builds) != 2 {
		return nil, fmt.Errorf("%w: %s: %d builds, want validate's two kernels", ErrReport, path, len(v.Builds))
	}
	return &v, nil
}

// ReadVM reads vm run's --json.
func ReadVM(path string) (*Report, error) {
	var r Report
	if err := decode(path, "vm", &r, func() (string, string) { return r.Schema, r.Kind }); err != nil {
		return nil, err
	}
	return &r, nil
}
