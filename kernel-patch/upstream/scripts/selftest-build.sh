#!/bin/bash
# selftest-build.sh TESTS_TREE LIBBPF_TREE OUT: build libbpf (libbpf.a and
# its installed headers) from LIBBPF_TREE/tools/lib/bpf into OUT/libbpf, and
# OUT/run_btf_distill: TESTS_TREE's prog_tests/btf_distill.c and
# btf_helpers.c, compiled unchanged against TESTS_TREE's test_progs.h, with
# kernel-patch/upstream/selftest/run_btf_distill.c standing in for
# test_progs, linked with that libbpf.
set -euo pipefail
tests=$(realpath "$1") lib=$(realpath "$2") out=$3
here=$(dirname "$(realpath "$0")")/..
mkdir -p "$out/libbpf" "$out/obj"
out=$(realpath "$out")
make -s -C "$lib/tools/lib/bpf" OUTPUT="$out/libbpf/" "$out/libbpf/libbpf.a" >/dev/null
make -s -C "$lib/tools/lib/bpf" OUTPUT="$out/libbpf/" DESTDIR="$out/libbpf/root" prefix= install_headers >/dev/null
st=$tests/tools/testing/selftests/bpf
cflags=(-g -O2 -Wall -Wno-unused-function
	-I"$st" -I"$out/libbpf/root/include" -I"$tests/tools/include" -I"$tests/tools/include/uapi")
for src in "$st/prog_tests/btf_distill.c" "$st/btf_helpers.c" "$here/selftest/run_btf_distill.c"; do
	gcc "${cflags[@]}" -c "$src" -o "$out/obj/$(basename "${src%.c}").o"
done
gcc -o "$out/run_btf_distill" "$out"/obj/*.o "$out/libbpf/libbpf.a" -lelf -lz
echo "selftest-build: $out/run_btf_distill (tests from $tests, libbpf from $lib)"
