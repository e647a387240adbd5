#!/usr/bin/env python3
"""Tests of .ci/summary and .ci/collect on real reports (testdata/).

The reports are what real boots returned (vm run and repro on Debian's
kernels under QEMU, .ci/job-vm and the module-btf action run here); the
expected values are the kernel's outcomes as those reports recorded them.
Run: python3 .ci/summary_test.py (make ci-lint runs it).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "testdata")
SMALL = os.path.join(DATA, "vm-amd64-6.12.107-6.12.117.json")
REPRO72 = os.path.join(DATA, "repro-testmodule-7.2.13+deb14.json")
# A split member past the end: sid's 7.2.13 arm64 oopses, which the catalog
# has no record of (its records are amd64).
PANIC = os.path.join(DATA, "arm64-7.2.13+deb14-hostile_split-id-out-of-range.json")
# An array cycle: 6.12.117 arm64 locks up in the load, as recorded.
LOCKUP = os.path.join(DATA, "arm64-6.12.117-hostile_array-cycle.json")


def run(script, *args):
    p = subprocess.run([sys.executable, os.path.join(HERE, script), *args],
                       capture_output=True, text=True, check=False)
    return p.returncode, p.stdout, p.stderr


def read_json(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def write_json(p, v):
    with open(p, "w", encoding="utf-8") as f:
        json.dump(v, f)


def table_rows(md):
    """The verdict table's rows as lists of cells (header and rule dropped)."""
    rows = [l for l in md.splitlines() if l.startswith("| ")]
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows[1:]]


class SummaryTest(unittest.TestCase):
    def test_vm_table(self):
        # 6.12.107's modules with distilled BTF booted on 6.12.117: every
        # module kept its BTF byte for byte; the stale and renamed rows
        # loaded without it.
        rc, out, err = run("summary", SMALL)
        self.assertEqual(rc, 0, err)
        self.assertIn("### vm: built for 6.12.107, booted on 6.12.117 (amd64, TCG", out)
        self.assertIn("boot **clean**", out)
        self.assertIn("modules 5: BTF kept 5, dropped 0, load failed 0", out)
        self.assertIn("**disagreements 0**", out)
        self.assertIn("MODULE_ALLOW_BTF_MISMATCH=y", out)
        got = {(r[0], r[1]): (r[2], r[3], r[5], r[6]) for r in table_rows(out)}
        want = {
            ("nls_utf8", "stale:before"): ("no-btf", "no-btf", "yes", "no"),
            ("nls_utf8", "negative:renamed"): ("no-btf", "no-btf", "yes", "no"),
            ("nls_utf8", "module"): ("btf", "btf", "yes", "yes"),
            ("fat", "dep"): ("btf", "btf", "yes", "yes"),
            ("vfat", "module"): ("btf", "btf", "yes", "yes"),
            ("cdrom", "dep"): ("btf", "btf", "yes", "yes"),
            ("isofs", "module"): ("btf", "btf", "yes", "yes"),
        }
        self.assertEqual(got, want)
        # The accelerator note holds a '|' (QEMU's message): escaped, so the
        # header line is no table row.
        self.assertEqual(len(table_rows(out)), 7)

    def test_repro_refusal(self):
        # The test module built by trixie's toolchain for 6.12.107+deb13,
        # loaded on sid's 7.2.13: the load fails (no MODULE_ALLOW_BTF_MISMATCH)
        # and the model names the distilled type it cannot map.
        rc, out, err = run("summary", REPRO72)
        self.assertEqual(rc, 0, err)
        self.assertIn("MODULE_ALLOW_BTF_MISMATCH=n", out)
        (row,) = table_rows(out)
        self.assertEqual(row[:6], ["btfrecon_test", "repro", "load-refused", "load-failed", "agree: load refused", "yes"])
        self.assertIn("STRUCT 'modversion_info' size=64: no base type with that name", row[7])

    def test_splat_fails(self):
        rc, out, err = run("summary", PANIC)
        self.assertEqual(rc, 1, err)
        self.assertIn("a kernel splat", err)
        self.assertIn("boot **panic**", out)
        self.assertIn("judged by the catalog's records: **not met**", out)
        self.assertIn("**kernel splat** in boot: panic in btf_relocate_map_distilled_base", out)
        block = out[out.index("```text"):]
        block = block[:block.index("```", 3)].splitlines()[1:]
        self.assertEqual(block[0], "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000007")
        self.assertEqual(block[1], "pc : btf_relocate_map_distilled_base+0x168/0x6b0")
        self.assertIn("  btf_module_notify+0x4dc/0x768", block)
        self.assertEqual(block[-1], "Kernel panic - not syncing: Oops: Fatal exception")
        self.assertIn("| act_bpf | hostile:split-id-out-of-range | load-refused | crashed |", out)

    def test_lockup_recorded(self):
        # The recorded finding: shown, not failed ...
        rc, out, err = run("summary", LOCKUP)
        self.assertEqual(rc, 0, err)
        self.assertIn("boot **lockup**", out)
        self.assertIn("**kernel splat** in boot: lockup in btf_relocate_map_distilled_base", out)
        self.assertIn("(the recorded finding: expected)", out)
        self.assertIn("rcu: INFO: rcu_sched detected stalls on CPUs/tasks", out)
        # ... and the same lockup without the records fails.
        with tempfile.TemporaryDirectory() as d:
            rep = read_json(LOCKUP)
            del rep["expected"]
            p = os.path.join(d, "r.json")
            write_json(p, rep)
            rc, out, err = run("summary", p)
        self.assertEqual(rc, 1)
        self.assertIn("**kernel splat** in boot: lockup", out)
        self.assertNotIn("expected)", out)

    def test_overview(self):
        rc, out, err = run("summary", "--overview", SMALL, REPRO72, LOCKUP)
        self.assertEqual(rc, 0, err)
        rows = table_rows(out)
        self.assertEqual([r[1:8] for r in rows], [
            ["amd64", "6.12.107", "6.12.117", "TCG", "clean", "5", "5"],
            ["amd64", "7.2.13+deb14", "7.2.13+deb14", "TCG", "clean", "0", "0"],
            ["arm64", "6.12.117", "6.12.117", "TCG", "lockup, records met", "1", "0"],
        ])
        self.assertEqual([r[-1] for r in rows], ["no", "no", "**yes**"])
        # The splat follows the table, not inside it.
        self.assertGreater(out.index("**kernel splat**"), out.index(rows[-1][0]))
        rc, out, _ = run("summary", "--overview", SMALL, PANIC)
        self.assertEqual(rc, 1)
        self.assertEqual(table_rows(out)[1][-1], "**yes**")

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as d:
            cases = {
                "not json": "{",
                "other schema": json.dumps({"schema": "btfrecon-report/0", "kind": "vm"}),
                "a list": "[]",
            }
            for name, text in cases.items():
                with self.subTest(name):
                    p = os.path.join(d, "r.json")
                    with open(p, "w", encoding="utf-8") as f:
                        f.write(text)
                    rc, out, err = run("summary", p)
                    self.assertEqual(rc, 2)
                    self.assertIn(p, err)
                    self.assertEqual(out, "")
        rc, _, err = run("summary")
        self.assertEqual(rc, 2)
        self.assertIn("usage:", err)


class CollectTest(unittest.TestCase):
    def test_console(self):
        with tempfile.TemporaryDirectory() as d:
            share = os.path.join(d, "share")
            os.makedirs(share)
            console = os.path.join(DATA, "vm-amd64-6.12.107-6.12.117.console.log")
            shutil.copyfile(console, os.path.join(share, "console.log"))
            rep = read_json(SMALL)
            rep["summary"]["console_log"] = os.path.join(share, "console.log")
            p = os.path.join(d, "r.json")
            write_json(p, rep)
            out = os.path.join(d, "art")
            rc, _, err = run("collect", p, out)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sorted(os.listdir(os.path.join(out, "console"))), ["boot.log"])
            with open(os.path.join(out, "console", "boot.log"), encoding="utf-8", errors="replace") as f:
                got = f.read()
            # The guest's own record of the renamed row's refusal.
            self.assertIn("distilled base BTF type 'modversion_infQ' [2] is not mapped to base BTF id", got)
            self.assertFalse(os.path.exists(os.path.join(out, "diff")))

    def test_console_gone(self):
        # The share named by the report is not on this machine: named, not fatal.
        with tempfile.TemporaryDirectory() as d:
            rep = read_json(SMALL)
            rep["summary"]["console_log"] = os.path.join(d, "gone", "console.log")
            p = os.path.join(d, "r.json")
            write_json(p, rep)
            out = os.path.join(d, "art")
            rc, _, err = run("collect", p, out)
            self.assertEqual(rc, 0, err)
            with open(os.path.join(out, "console", "MISSING"), encoding="utf-8") as f:
                self.assertEqual(f.read(), os.path.join(d, "gone", "console.log") + "\n")

    def test_extract(self):
        # A make target's output: its command line, progress on stdout, the
        # report (indented, as validate --json writes it), another object.
        with tempfile.TemporaryDirectory() as d:
            rep = read_json(SMALL)
            log = os.path.join(d, "make.log")
            with open(log, "w", encoding="utf-8") as f:
                f.write("BTFRECON_SRC=/src ./btfrecon validate --tree t --json\n")
                f.write("validate: {build 1 of 2} 12.5 s\n")
                f.write(json.dumps(rep, indent=2) + "\n")
                f.write('{"schema": "something-else"}\nmake: done\n')
            dst = os.path.join(d, "r.json")
            rc, _, err = run("collect", "--extract", log, dst)
            self.assertEqual(rc, 0, err)
            self.assertEqual(read_json(dst), rep)
            with open(log, "w", encoding="utf-8") as f:
                f.write("make: *** [validate-7.2] Error 2\n")
            rc, _, err = run("collect", "--extract", log, os.path.join(d, "none.json"))
            self.assertEqual(rc, 1)
            self.assertIn("no btfrecon-report/1 JSON", err)
            self.assertFalse(os.path.exists(os.path.join(d, "none.json")))


if __name__ == "__main__":
    unittest.main()
