// Package kmod reads and rewrites the BTF sections of Linux kernel modules.
//
// A module is a relocatable ELF file (.ko), usually compressed (.ko.xz; a
// kernel built with MODULE_COMPRESS_ZSTD or _GZIP: .ko.zst, .ko.gz)
// and often followed by an appended signature. The loader
// (kernel/module/main.c) finds two sections by name: .BTF, the module's split
// BTF, and, since 6.11, .BTF.base, the distilled base that .BTF refers to and
// that btf_parse_module() relocates onto the running vmlinux BTF. Neither is
// SHF_ALLOC: the loader reads them from its copy of the file.
//
// Reading: Open and Parse accept .ko, .ko.xz, .ko.zst and .ko.gz (by
// content, not name; inflated to at most MaxImage, the ELF magic first),
// strip the appended signature ("~Module signature appended~\n" trailer,
// preceded by struct module_signature whose last field is the big-endian
// signature length), and expose .BTF, .BTF.base and .modinfo's name=. ELF32
// and ELF64, either byte order.
//
// Writing: Module.WithSections returns a new ELF image with .BTF replaced and
// .BTF.base replaced or added; WriteFileAtomic puts it in place. The output
// is uncompressed and unsigned: any signature is void once the bytes change,
// and an unsigned module still loads (tainting) on kernels that do not
// enforce signatures.
//
// We rewrite ELF ourselves rather than run objcopy or use libelf:
//   - no binutils/llvm at run time, and the same Go code for every class,
//     byte order and architecture (tests: x86_64, i386, s390x, ppc32);
//   - exact control: every other section keeps its index, header fields and
//     bytes; only sh_offset moves, and only when something before it grew.
//     A rewrite with unchanged contents reproduces a tightly packed input
//     byte for byte (all 4230 amd64 modules of Debian 6.12.117);
//   - errors we can name (file, section, offset) instead of a tool's exit code.
//
// The layout is re-derived from scratch: ELF header, then every section in
// its original file order at its sh_addralign, new sections last, then the
// section header table. New section headers are appended, so sh_link, sh_info,
// st_shndx and group members stay valid; the new name is appended to the
// section name table. Files with program headers are refused: modules have
// none, and moving segments is a different job.
//
// A new .BTF.base gets what pahole >= 1.28 produces: pahole hands the
// distilled base to "llvm-objcopy --add-section .BTF.base=<file>", which
// makes SHT_PROGBITS, flags 0 (not SHF_ALLOC), sh_addralign 1, the same as
// the .BTF sections of Debian's 6.12 modules. The loader cares only that the
// name matches and the section has contents (not SHT_NOBITS); it copies the
// data before parsing, so alignment does not matter to it.
package kmod
