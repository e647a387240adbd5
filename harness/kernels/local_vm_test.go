package kernels_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kernels"
)

// TestVMLocalKernel is the done test of a kernel given by path: `btfrecon
// vm run --build 6.12.107 --run DIR` must give the same rows and verdicts
// as `--run 6.12.117` when DIR holds 6.12.117's vmlinux, boot image and
// modules laid out as a build would (amd64: a build tree, modules in it
// uncompressed; arm64: installed under lib/modules/). Two real boots an
// arch; make vm-localkernel runs it (BTFRECON_VM=1; BTFRECON_LOCAL_ARCHES,
// BTFRECON_LOCAL_MODULES narrow it; BTFRECON_LOCAL_TREES keeps the trees).
func TestVMLocalKernel(t *testing.T) {
	if os.Getenv("BTFRECON_VM") != "1" {
		t.Skip("boots a VM: run with BTFRECON_VM=1 (make vm-localkernel)")
	}
	arches := strings.Split(envOr("BTFRECON_LOCAL_ARCHES", "amd64,arm64"), ",")
	modules := envOr("BTFRECON_LOCAL_MODULES", "all-loadable")
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "btfrecon")
	build := exec.Command("go", "build", "-o", bin, "./cmd/btfrecon")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			deb := realdata.Kernel(t, "6.12.117", arch)
			realdata.Kernel(t, "6.12.107", arch)
			layout := kernels.InTree
			if arch == "arm64" {
				layout = kernels.Installed
			}
			// BTFRECON_LOCAL_TREES keeps the trees between runs (the
			// build tree's 4230 inflated modules take minutes to write).
			dir := filepath.Join(t.TempDir(), "linux-6.12.117")
			if keep := os.Getenv("BTFRECON_LOCAL_TREES"); keep != "" {
				dir = filepath.Join(keep, arch+"-"+layout.String())
			}
			if _, err := os.Stat(dir); err != nil {
				if err := kernels.MakeTree(deb, dir, layout, nil); err != nil {
					t.Fatal(err)
				}
			}
			uname, _ := deb.Uname()
			run := func(kernel string) report {
				var out, errb bytes.Buffer
				cmd := exec.Command(bin, "vm", "run", "--arch", arch, "--build", "6.12.107", "--run", kernel, "--modules", modules, "--json")
				cmd.Env = append(os.Environ(), "BTFRECON_SRC="+src)
				cmd.Stdout, cmd.Stderr = &out, &errb
				err := cmd.Run()
				t.Logf("vm run --run %s (%s layout): %v\n%s", kernel, layout, err, tail(errb.String(), 15))
				var r report
				if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
					t.Fatalf("vm run --run %s: %v; report: %v", kernel, err, jerr)
				}
				// Rows name the booted kernel's build by the name it was
				// given; the path goes by its release.
				for i := range r.Modules {
					r.Modules[i].normalize(uname, "6.12.117")
				}
				return r
			}
			want := run("6.12.117")
			got := run(dir)
			if got.Summary.Uname != uname || want.Summary.Uname != uname {
				t.Errorf("booted %q and %q, want %q both times", want.Summary.Uname, got.Summary.Uname, uname)
			}
			if got.Run != uname {
				t.Errorf("report says run %q, want the release %q", got.Run, uname)
			}
			// all-loadable: 664 modules and the case rows on 6.12.117.
			if min := map[bool]int{true: 600, false: 1}[modules == "all-loadable"]; len(want.Modules) < min {
				t.Fatalf("the Debian run has %d rows, want at least %d", len(want.Modules), min)
			}
			if d := diffRows(want.Modules, got.Modules); d != "" {
				t.Errorf("--run %s differs from --run 6.12.117:\n%s", dir, d)
			}
			ws, gs := want.Summary, got.Summary
			ws.Uname, gs.Uname = "", ""
			if ws != gs {
				t.Errorf("summary: --run 6.12.117 %+v, --run DIR %+v", ws, gs)
			}
			t.Logf("%s: %d rows alike; %+v", arch, len(got.Modules), got.Summary)
		})
	}
}

type report struct {
	Run     string `json:"run"`
	Modules []row  `json:"modules"`
	Summary struct {
		Modules       int    `json:"modules"`
		Loaded        int    `json:"loaded"`
		Refused       int    `json:"load_failed"`
		BTFKept       int    `json:"btf_kept"`
		BTFDropped    int    `json:"btf_dropped"`
		Identical     int    `json:"identical"`
		Differences   int    `json:"differences"`
		Disagreements int    `json:"disagreements"`
		OwnBuild      int    `json:"a_build_loaded"`
		OtherBuild    int    `json:"b_build_loaded"`
		BootVerdict   string `json:"boot_verdict"`
		Uname         string `json:"uname"`
	} `json:"summary"`
}

// row is what a table row says (timings and boot ids left out).
type row struct {
	Module    string          `json:"module"`
	Step      string          `json:"step"`
	Role      string          `json:"role"`
	Code      string          `json:"code"`
	Flags     int             `json:"flags"`
	Predicted string          `json:"predicted"`
	Reason    string          `json:"reason"`
	Kernel    string          `json:"kernel"`
	Errno     int             `json:"errno"`
	Verdict   string          `json:"verdict"`
	Identical bool            `json:"identical"`
	Agree     bool            `json:"agree"`
	Sysfs     int             `json:"sysfs_bytes"`
	Model     int             `json:"model_bytes"`
	SHA256    string          `json:"sysfs_sha256"`
	BTFIDs    string          `json:"btf_ids"`
	Kfuncs    json.RawMessage `json:"kfuncs"`
	Cause     string          `json:"cause"`
}

func (r *row) normalize(from, to string) {
	for _, s := range []*string{&r.Code, &r.Reason, &r.Verdict, &r.BTFIDs, &r.Cause} {
		*s = strings.ReplaceAll(*s, from, to)
	}
	r.Kfuncs = json.RawMessage(strings.ReplaceAll(string(r.Kfuncs), from, to))
}

func diffRows(want, got []row) string {
	w, g := map[string]row{}, map[string]row{}
	for _, r := range want {
		w[r.Step] = r
	}
	for _, r := range got {
		g[r.Step] = r
	}
	var out []string
	for s, r := range w {
		o, ok := g[s]
		switch {
		case !ok:
			out = append(out, "only in --run 6.12.117: "+s)
		case fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", o):
			out = append(out, fmt.Sprintf("%s:\n  6.12.117 %+v\n  DIR      %+v", s, r, o))
		}
	}
	for s := range g {
		if _, ok := w[s]; !ok {
			out = append(out, "only in --run DIR: "+s)
		}
	}
	sort.Strings(out)
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("... %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
