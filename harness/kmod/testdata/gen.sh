#!/bin/sh
# Regenerates the test inputs (not run by the tests; the outputs are committed).
# Needs gcc (with -m32 support), binutils, binutils-s390x-linux-gnu,
# binutils-powerpc-linux-gnu and xz.
#
# btf.bin is the .BTF section of Debian's 6.12.117+deb12-amd64 nls_ascii.ko:
# a real 126-byte split BTF. The rewriter never interprets it.
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

gcc -O1 -c tiny.c -o "$t/x86_64.o"
gcc -O1 -m32 -c tiny.c -o "$t/i386.o"
s390x-linux-gnu-as tiny.S.s390x -o "$t/s390x.o"
powerpc-linux-gnu-as tiny.S.ppc32 -o "$t/ppc32.o"
# The host objcopy does not know s390x and ppc32: use each target's own.
addbtf() { "$1" --add-section .BTF=btf.bin "$t/$2.o" "tiny-$2.ko"; }
addbtf objcopy x86_64
addbtf objcopy i386
addbtf s390x-linux-gnu-objcopy s390x
addbtf powerpc-linux-gnu-objcopy ppc32

# Signed and compressed like a distribution module: a fake 16-byte
# signature, struct module_signature (id_type 2 = PKCS#7, sig_len 16,
# big-endian), the trailer; then xz as kbuild does it.
{
	cat tiny-x86_64.ko
	printf '\252\252\252\252\252\252\252\252\252\252\252\252\252\252\252\252'
	printf '\000\000\002\000\000\000\000\000\000\000\000\020'
	printf '~Module signature appended~\n'
} >"$t/signed.ko"
xz --check=crc32 --lzma2=dict=1MiB -c "$t/signed.ko" >tiny-x86_64-signed.ko.xz

# zstd and gzip as kbuild's CONFIG_MODULE_COMPRESS_ZSTD / _GZIP make them
# (scripts/Makefile.modinst: zstd -T0 --rm -f -q, gzip -n -f).
zstd -T0 -q -c tiny-x86_64.ko >tiny-x86_64.ko.zst
gzip -n -c tiny-x86_64.ko >tiny-x86_64.ko.gz
