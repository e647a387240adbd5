# The upstream fix series (kernel-patch/upstream/): fixes to Linux 7.2.13's
# module BTF relocation (tools/lib/bpf/btf_relocate.c, shared with
# kernel/bpf/btf_relocate.c; kernel/bpf/btf.c) and to libbpf's distill and
# parser, with btf_distill selftests. See kernel-patch/upstream/README.md.
#
#   make upstream-selftests  the series' btf_distill subtests in userspace,
#                       built from the patched tree and run against libbpf
#                       from the unpatched tree (each added subtest must fail
#                       or hang) and from the patched tree (all must pass)
#   make upstream-check the series on a fresh 7.2.13 tree (git am), the tree's
#                       checkpatch.pl --strict, Fixes: ids, cover letter, the
#                       selftests, then the kernel rows: btfrecon validate
#                       $(UP_VALIDATE_FLAGS) (--kasan) of the unpatched and the
#                       patched tree with every hostile row; last line
#                       "series N patches: ...; unpatched: K/K reproduce; patched: K/K clean"
#                       (UP_KERNEL_ROWS=0: without the kernel rows)
#   make upstream-bisect libbpf at every commit of the series against the
#                       added subtests: each passes from exactly its own fix on
#   make upstream-kernel the kernel rows alone (kernel-rows.sh): validate of
#                       the unpatched tree, then of the patched one in the
#                       same worktree ($(UP_KTREE): the patched kernels build
#                       from the unpatched ones' objects), the hostile rows
#                       validate leaves out booted alone on its kernels, and
#                       a line per row (cmd/upstreamrows). KASAN kernels: ~30
#                       min cold on 2 cores, then a few minutes a build
#
# The source is Debian sid's linux-source-7.2 7.2.13-1, the .deb the 1.8
# oracle uses (make oracle-sid-src), as a git repository in $(UP_PRISTINE).

UP_KP       := kernel-patch/upstream
UP_DIR      := $(CACHE)/upstream
UP_VERSION  := 7.2.13-1
UP_PRISTINE := $(UP_DIR)/linux-7.2.13
UP_CHECK    := $(UP_DIR)/check
UP_KTREE    := $(UP_DIR)/kernel-tree
UP_APT_PKGS := gcc make libelf-dev zlib1g-dev git perl python3 python3-ply python3-git \
	       xz-utils bc bison flex libssl-dev cpio qemu-system-x86
UP_VALIDATE_FLAGS ?= --kasan
UP_KERNEL_ROWS    ?= 1
UP_ENV = BTFRECON=$(CURDIR)/btfrecon BTFRECON_SRC=$(CURDIR) UPSTREAM_VALIDATE_FLAGS='$(UP_VALIDATE_FLAGS)'

.PHONY: upstream-deps upstream-tree upstream-selftests upstream-check upstream-kernel

upstream-deps:
	$(call apt_need,upstream,$(UP_APT_PKGS))

# The series is against 7.2.13: the sid package the oracle fetched must be
# that version (a newer sid source would need the series rebased).
upstream-tree: upstream-deps oracle-sid-src
	@v=$$(cat $(ORACLE_SID)/version); [ "$$v" = "$(UP_VERSION)" ] || \
	  { echo "upstream: the series is against linux-source-7.2 $(UP_VERSION); the oracle has $$v" >&2; exit 1; }
	@kernel-patch/scripts/pristine-tree.sh \
	  $(ORACLE_SID)/pkg-$(UP_VERSION)/usr/src/linux-source-7.2.tar.xz $(UP_PRISTINE)

upstream-selftests: upstream-tree
	@kernel-patch/scripts/apply-series.sh $(UP_PRISTINE) $(UP_CHECK)/check-tree $(UP_KP)/series >/dev/null
	@$(UP_KP)/scripts/selftests.sh $(UP_PRISTINE) $(UP_CHECK)/check-tree $(UP_CHECK)/selftests

upstream-check: btfrecon upstream-tree
	@$(UP_ENV) UPSTREAM_KERNEL_ROWS=$(UP_KERNEL_ROWS) UPSTREAM_KERNEL_TREE=$(UP_KTREE) \
	  $(UP_KP)/scripts/check.sh $(UP_PRISTINE) $(UP_CHECK) $(UP_KP)

upstream-kernel: btfrecon upstream-tree
	@$(UP_ENV) $(UP_KP)/scripts/kernel-rows.sh $(UP_PRISTINE) $(UP_KTREE) $(UP_KP)/series $(UP_CHECK)/kernel

# Which fix makes which selftest pass: libbpf at every commit of the series.
.PHONY: upstream-bisect
upstream-bisect: upstream-selftests
	@$(UP_KP)/scripts/bisect.sh $(UP_CHECK)/check-tree $(UP_CHECK)/bisect
