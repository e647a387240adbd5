// Command mutants applies small mutations to the C core, one at a time,
// builds each mutant into a driver and runs the three-way differential on
// it: a mutant is killed when the differential disagrees. The last line is
// "killed K/T". The unmutated core must pass first.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/threeway"
)

type mutant struct {
	name     string
	old, new string
	upstream bool // a bug upstream actually had
	// equivalent: no input can tell it apart (reported, not scored)
	equivalent string
}

var mutants = []mutant{
	{name: "embedded loop ends at the split count (upstream bug, fixed in libbpf 1.6)",
		old: "for (i = 0; i < r->ns; i++) {\n\t\tconst u32 *t = r->split.types + r->split.offs[i];\n\n\t\tif (!(i % RESCHED_EVERY))",
		new: "for (i = 0; i + r->nd < r->ns; i++) {\n\t\tconst u32 *t = r->split.types + r->split.offs[i];\n\n\t\tif (!(i % RESCHED_EVERY))", upstream: true},
	{name: "drop the embedded size check", old: "if (r->embedded[did] && !r->id_map[did])", new: "if (0 && r->embedded[did])"},
	{name: "embedded check survives mapping (no upstream quirk)", old: "if (r->embedded[did] && !r->id_map[did])", new: "if (r->embedded[did])"},
	{name: "embedded size compared as 31 bits", old: "return dt[2] == bt[2];", new: "return (dt[2] & KEY_SIZE_MASK) == (bt[2] & KEY_SIZE_MASK);"},
	{name: "embedded walk stops at typedefs", old: "\tcase BTF_KIND_TYPEDEF:\n\tcase BTF_KIND_TYPE_TAG:\n\t\t*next = t[2];",
		new: "\tcase BTF_KIND_TYPE_TAG:\n\t\t*next = t[2];"},
	{name: "embedded walk stops at arrays", old: "\tcase BTF_KIND_ARRAY:\n\t\t*next = t[3];\n\t\treturn true;",
		new: "\tcase BTF_KIND_ARRAY:\n\t\treturn false;"},
	{name: "a chain cycle taken for its end (memo)", old: "if (r->chain[id] & CHAIN_DONE) {",
		new: "if (r->chain[id] & (CHAIN_DONE | CHAIN_BUSY)) {"},
	{name: "chain memo keeps no result", old: "r->chain[id] = CHAIN_DONE | res;", new: "r->chain[id] = CHAIN_DONE;",
		equivalent: "the first walk to reach a distilled composite marks it; a later member reaching it through the memo would only mark it again"},
	{name: "skip the string rewrite",
		old: "str_fields(t, &f);\n\t\tfor (j = 0; j < ARRAY_SIZE(f.run); j++) {\n\t\t\tfor (k = 0; k < f.run[j].count; k++) {\n\t\t\t\tu32 *w",
		new: "str_fields(t, &f);\n\t\tfor (j = 0; j < 0; j++) {\n\t\t\tfor (k = 0; k < f.run[j].count; k++) {\n\t\t\t\tu32 *w"},
	{name: "split strings off by one", old: "if (*w >= dlen)\n", new: "if (*w > dlen)\n"},
	{name: "zero string offsets moved like split strings", old: "if (!*w)\n\t\t\t\t\tcontinue;\n\t\t\t\tif (*w >= dlen)\n",
		new: "if (!*w || *w >= dlen)\n"},
	{name: "name map not recorded", old: "r->name_map[dt[0]] = bt[0];", new: ""},
	{name: "split ids off by one", old: "r->id_map[r->nd + i] = r->nb + i;", new: "r->id_map[r->nd + i] = r->nb + i + 1;"},
	{name: "INT encoding not compared", old: "return bkind == BTF_KIND_INT &&\n\t\t       BTF_INT_ENCODING(dt[3]) == BTF_INT_ENCODING(bt[3]);", new: "return bkind == BTF_KIND_INT;"},
	{name: "INT compares the whole data word", old: "BTF_INT_ENCODING(dt[3]) == BTF_INT_ENCODING(bt[3]);", new: "dt[3] == bt[3];"},
	{name: "FWD kind_flag not compared", old: "return type_kflag(bt) == type_kflag(dt);", new: "return true;"},
	{name: "FWD onto any STRUCT (no quirk)", old: "return !type_kflag(bt);", new: "return true;"},
	{name: "ENUM64 not accepted for ENUM", old: "return bkind == BTF_KIND_ENUM || bkind == BTF_KIND_ENUM64;", new: "return bkind == BTF_KIND_ENUM;"},
	{name: "multiple candidates allowed", old: "if (r->id_map[e->id]) {", new: "if (0) {"},
	{name: "void candidate ignored", old: "if (!e->id) {", new: "if (!e->id) {\n\t\t\t\tcontinue;\n\t\t\t}\n\t\t\tif (0) {"},
	{name: "key size 32 bits", old: "#define KEY_SIZE_MASK\t0x7fffffffu", new: "#define KEY_SIZE_MASK\t0xffffffffu"},
	{name: "ambiguous composite names by name only", old: "by_size = r->name_cnt[bt[0]] > 1;", new: "by_size = false;"},
	{name: "composites always keyed by size", old: "by_size = r->name_cnt[bt[0]] > 1;", new: "by_size = true;"},
	{name: "FWD keyed by size", old: "\t\tcase BTF_KIND_FWD:\n\t\t\tby_size = false;", new: "\t\tcase BTF_KIND_FWD:\n\t\t\tby_size = true;"},
	{name: "anonymous distilled types accepted", old: "if (t[0])\n\t\t\t\tbreak;", new: "break;"},
	{name: "ENUM64 accepted in the distilled base", old: "\t\tcase BTF_KIND_ENUM:\n\t\tcase BTF_KIND_STRUCT:\n\t\tcase BTF_KIND_UNION:\n\t\tcase BTF_KIND_FWD:\n\t\t\tif (t[0])",
		new: "\t\tcase BTF_KIND_ENUM:\n\t\tcase BTF_KIND_ENUM64:\n\t\tcase BTF_KIND_STRUCT:\n\t\tcase BTF_KIND_UNION:\n\t\tcase BTF_KIND_FWD:\n\t\t\tif (t[0])"},
	{name: "unmapped distilled types allowed", old: "if (r->id_map[i])\n\t\t\tcontinue;", new: "continue;"},
	{name: "strings checked after the rewrite (not all-or-nothing)",
		old: "\tif (!err)\n\t\terr = check_strings(&r);\n\tif (err)\n\t\tgoto out;\n\n\trewrite_split(&r);\n",
		new: "\tif (err)\n\t\tgoto out;\n\n\trewrite_split(&r);\n\terr = check_strings(&r);\n\tif (err)\n\t\tgoto out;\n"},
	{name: "a refusal after the split was written", old: "\t\t\t\t\treturn -ENOENT;",
		new: "\t\t\t\t\tr->split_types[r->split.offs[i]] ^= 1;\n\t\t\t\t\treturn -ENOENT;"},
	{name: "distilled base read in place, unaligned (no copy)",
		old: "err = parse_raw(\"distilled base BTF\", r.dist_copy, dist_size, false,",
		new: "err = parse_raw(\"distilled base BTF\", dist, dist_size, false,"},
	{name: "input-sized allocations without __GFP_NOWARN", old: "#define RECON_GFP\t(GFP_KERNEL | __GFP_NOWARN)",
		new: "#define RECON_GFP\tGFP_KERNEL"},
	{name: "local_type(0) reads offs[-1]", old: "if (!id || id >= r->nd + r->ns)\n\t\treturn void_type;",
		new:        "if (id >= r->nd + r->ns)\n\t\treturn void_type;",
		equivalent: "no caller passes 0 (each tests the id first); the guard keeps a future one from reading offs[-1]"},
	{name: "split alignment not checked", old: "if (!IS_ALIGNED((unsigned long)split, 4) ||\n\t    !IS_ALIGNED((unsigned long)base, 4)) {",
		new:        "if (0) {",
		equivalent: "the kernel and the driver pass kvmalloc'd (aligned) buffers; the fuzzer feeds misaligned splits, which UBSan's alignment check would catch unrefused"},
	{name: "sizes sorted ascending", old: "return x->size > y->size ? -1 : 1;", new: "return x->size < y->size ? -1 : 1;",
		equivalent: "every same-name distilled type is visited and filtered by exact size; order only picks which error fires first, and all are -EINVAL"},
}

func main() {
	core := flag.String("core", "kernel-patch/core/btf_reconcile.c", "the C core")
	cc := flag.String("cc", "gcc -O2", "compiler and flags")
	driver := flag.String("driver", "kernel-patch/userspace/driver.c harness/oracle/frame.c",
		"the userspace driver's C files, blank-separated")
	work := flag.String("workdir", "", "where mutants are built")
	step := flag.Int("corpus-step", 16, "every n-th corpus module (0: no corpus)")
	seeds := flag.Int("seeds", 20, "random seeds")
	flag.Parse()
	lib, err := oracle.Find()
	check(err)
	src, err := os.ReadFile(*core)
	check(err)
	hdr, err := os.ReadFile(strings.TrimSuffix(*core, ".c") + ".h")
	check(err)
	var drv []string
	for _, f := range strings.Fields(*driver) {
		a, err := filepath.Abs(f)
		check(err)
		drv = append(drv, a)
	}
	check(os.MkdirAll(*work, 0o755))

	build := func(dir, text string) (string, error) {
		check(os.MkdirAll(filepath.Join(dir, "core"), 0o755))
		c := filepath.Join(dir, "core", "btf_reconcile.c")
		check(os.WriteFile(c, []byte(text), 0o644))
		check(os.WriteFile(filepath.Join(dir, "core", "btf_reconcile.h"), hdr, 0o644))
		// the driver is built where it is: the header it includes is never mutated
		bin := filepath.Join(dir, "btfrecon-ccore")
		args := append(append(strings.Fields(*cc), "-Wno-error", "-o", bin, c), drv...)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, out)
		}
		return bin, nil
	}
	run := func(bin string, stop bool) (threeway.Summary, error) {
		return threeway.Run(threeway.Config{CCore: bin, Libbpf: lib, Seeds: *seeds, GenPerSeed: 50,
			Corpus: *step > 0, CorpusStep: *step, CorpusFrom: "6.12.107", CorpusTo: "6.12.117",
			MaxReported: 1, Log: os.Stdout, StopOnFirst: stop})
	}

	bin, err := build(filepath.Join(*work, "original"), string(src))
	check(err)
	sum, err := run(bin, false)
	check(err)
	if sum.Disagreements != 0 {
		fmt.Printf("the unmutated core disagrees %d times: fix that first\n", sum.Disagreements)
		os.Exit(1)
	}
	fmt.Printf("original: inputs %d, disagreements 0\n", sum.Inputs)

	killed, total, upTotal, upKilled := 0, 0, 0, 0
	for i, m := range mutants {
		if m.equivalent != "" {
			fmt.Printf("mutant %2d %-55s equivalent, not scored: %s\n", i+1, m.name, m.equivalent)
			continue
		}
		total++
		if strings.Count(string(src), m.old) != 1 {
			fmt.Printf("mutant %d (%s): pattern found %d times: the mutant list is stale\n", i+1, m.name, strings.Count(string(src), m.old))
			os.Exit(2)
		}
		text := strings.Replace(string(src), m.old, m.new, 1)
		bin, err := build(filepath.Join(*work, fmt.Sprintf("m%02d", i+1)), text)
		verdict := "SURVIVED"
		if err != nil {
			verdict = "killed (does not build)"
			killed++
		} else {
			sum, err := run(bin, true)
			switch {
			case err != nil:
				verdict = "killed (" + err.Error() + ")"
				killed++
			case sum.Disagreements > 0:
				verdict = fmt.Sprintf("killed after %d inputs", sum.Inputs)
				killed++
			}
		}
		if m.upstream {
			upTotal++
			if verdict != "SURVIVED" {
				upKilled++
			}
		}
		fmt.Printf("mutant %2d %-55s %s\n", i+1, m.name, verdict)
	}
	fmt.Printf("upstream-history mutants killed %d/%d\n", upKilled, upTotal)
	fmt.Printf("killed %d/%d\n", killed, total)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(2)
	}
}
