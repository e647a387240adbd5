# The kernel side: our C reconciliation core (kernel-patch/core/), built in
# userspace behind the oracle's CLI, the three-way differential (Go model, C
# core, libbpf), mutation testing, fuzzing, and the Linux 6.1 patch series.
#
#   make ccore        build $(CACHE)/ccore/btfrecon-ccore
#   make ccore-test   fast checks: C core vs Go model on generated cases
#   make ccore-fuzz   libFuzzer + ASan/UBSan on the core (CCORE_FUZZ_SECONDS)
#   make threeway     Go model vs C core vs libbpf: corpus + generated cases
#   make mutants      mutate the core, expect the differential to fail each time
#   make series       regenerate series/0001 from core/ (and series-src/)
#   make patch-check  series/0001 up to date; git am the series on a fresh 6.1
#                     tree; core identity, checkpatch --strict, upstream ids,
#                     maintainers, cover letter, W=1 and sparse builds of what
#                     it touches
#   make module-layout-check  struct module before and after the series
#                     (pahole on the DWARF of kernel/module/main.o, Debian's
#                     amd64 and arm64 configs and the minimal ones): every
#                     member keeps its offset, sizeof and module_layout's CRC
#                     do not change
#   make kernel-6.1   build the patched minimal x86_64 6.1 kernel (cached);
#                     kernel-6.1-other: a second config of it (the other base);
#                     kernel-6.1-arm64, kernel-6.1-arm64-other: the same, arm64
#   make kernel-6.1-boot  make validate-6.1 (mk/validate.mk): two kernels of the
#                     patched tree, the test modules distilled by the model and
#                     booted both ways, every row judged (kernel-6.1-arm64-boot,
#                     kernel-6.1-kasan-boot, kernel-6.1-arm64-kasan-boot: with
#                     --arch arm64 and/or --kasan)

KP_DIR        := kernel-patch
CCORE_DIR     := $(CACHE)/ccore
CCORE_BIN     := $(CCORE_DIR)/btfrecon-ccore
CCORE_SRC     := $(KP_DIR)/core/btf_reconcile.c
# The driver: the core backend (userspace/driver.c) of the frame the libbpf
# oracle uses too (harness/oracle/frame.c).
FRAME_DIR     := harness/oracle
CCORE_HDRS    := $(KP_DIR)/core/btf_reconcile.h $(KP_DIR)/userspace/shim.h $(FRAME_DIR)/frame.h \
		 $(wildcard $(KP_DIR)/userspace/include/*/*.h $(KP_DIR)/userspace/include/*/*/*.h)
CCORE_DRIVER  := $(KP_DIR)/userspace/driver.c $(FRAME_DIR)/frame.c
CCORE_CC      ?= gcc
# -fsanitize=alignment: the driver hands the core its distilled base at an
# odd address, as a module image does; any direct (unaligned) read aborts.
CCORE_CFLAGS  ?= -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror \
		 -fsanitize=alignment -fno-sanitize-recover=alignment
# The core is built exactly as the kernel sees it, plus the shim.
CCORE_CPPFLAGS = -D_GNU_SOURCE -include $(KP_DIR)/userspace/shim.h -I$(KP_DIR)/userspace/include \
		 -I$(FRAME_DIR)

.PHONY: ccore ccore-test ccore-fuzz ccore-fuzz-deps threeway mutants

ccore: $(CCORE_BIN)

$(CCORE_BIN): $(CCORE_SRC) $(CCORE_DRIVER) $(CCORE_HDRS)
	@mkdir -p $(CCORE_DIR)
	$(CCORE_CC) $(CCORE_CFLAGS) $(CCORE_CPPFLAGS) -o $@.tmp $(CCORE_SRC) $(CCORE_DRIVER)
	@mv -f $@.tmp $@

# Generated and conformance cases, C core against the Go model (no libbpf,
# no corpus): seconds.
ccore-test: ccore
	BTFRECON_CCORE=$(CCORE_BIN) $(GO) test -count=1 ./harness/threeway/

# Everything, with libbpf: the distro corpus (every 6.12.107 amd64 module,
# distilled by the model, relocated onto 6.12.117) and the generated cases.
# Last line: "inputs N, disagreements M".
THREEWAY_FLAGS ?=
threeway: ccore oracle
	$(GO) run ./cmd/threeway -ccore $(CCORE_BIN) $(THREEWAY_FLAGS)

# Mutation testing: each mutant of the core must be caught by the
# differential (generated cases, plus a corpus sample). Last line "killed K/T".
MUTANTS_FLAGS ?= -corpus-step 16
mutants: oracle
	$(GO) run ./cmd/mutants -core $(CCORE_SRC) \
	  -cc "$(CCORE_CC) $(CCORE_CFLAGS) $(CCORE_CPPFLAGS)" -driver "$(CCORE_DRIVER)" \
	  -workdir $(CCORE_DIR)/mutants $(MUTANTS_FLAGS)

# libFuzzer with ASan and UBSan over the core, for a bounded time.
CCORE_FUZZ_SECONDS ?= 60
CCORE_FUZZ_BIN     := $(CCORE_DIR)/ccore-fuzz
$(CCORE_FUZZ_BIN): $(CCORE_SRC) $(KP_DIR)/userspace/fuzz.c $(CCORE_HDRS)
	@mkdir -p $(CCORE_DIR)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(CCORE_CPPFLAGS) -o $@ $(CCORE_SRC) $(KP_DIR)/userspace/fuzz.c

ccore-fuzz-deps:
	$(call apt_need,ccore-fuzz,clang libclang-rt-14-dev)

$(CCORE_FUZZ_BIN): | ccore-fuzz-deps

ccore-fuzz: ccore-fuzz-deps $(CCORE_FUZZ_BIN)
	@mkdir -p $(CCORE_DIR)/fuzz-corpus
	$(GO) run ./cmd/fuzzseeds -out $(CCORE_DIR)/fuzz-corpus
	$(CCORE_FUZZ_BIN) -max_total_time=$(CCORE_FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -artifact_prefix=$(CCORE_DIR)/ $(CCORE_DIR)/fuzz-corpus

# ---- Linux 6.1 + our series -------------------------------------------------
KSRC_PKG   := linux-source-6.1
KSRC_TAR   := /usr/src/linux-source-6.1.tar.xz
KERNEL_DIR := $(CACHE)/kernel
KFRAG      := vmimages/linux-6.1/minimal.config
KSCRIPTS   := $(KP_DIR)/scripts
KAPT_PKGS  := $(KSRC_PKG) dwarves sparse python3-ply python3-git bc bison flex libelf-dev libssl-dev cpio busybox-static qemu-system-x86

.PHONY: kernel-deps patch-check kernel-6.1

kernel-deps:
	$(call apt_need,kernel,$(KAPT_PKGS))

# The pristine tree is a git repository, one per source package version.
kver = $$(dpkg-query -W -f='$${Version}' $(KSRC_PKG) | tr '~:' '__')

# series/0001 is generated: the core files as they are, with the commit
# message and build hunks from series-src/ (cmd/mkseries). make series
# rewrites it; patch-check first refuses a stale one.
.PHONY: series series-check
series:
	$(GO) run ./cmd/mkseries -kp $(KP_DIR)

series-check:
	@$(GO) run ./cmd/mkseries -kp $(KP_DIR) -check

patch-check: series-check kernel-deps
	@v=$(kver); $(KSCRIPTS)/pristine-tree.sh $(KSRC_TAR) $(KERNEL_DIR)/pristine-$$v && \
	$(KSCRIPTS)/patch-check.sh $(KERNEL_DIR)/pristine-$$v $(KERNEL_DIR)/check-$$v $(KP_DIR) $(KFRAG)

# struct module's ABI: the series' two new members go at the end, hidden from
# genksyms. On Debian's configs (linux-config-6.1 of the installed source
# version) sizeof must not change either; the minimal x86_64 config has 4
# bytes of tail padding, where it grows and the loader refuses modules built
# against the unpatched headers.
.PHONY: module-layout-check
module-layout-check: kernel-deps kernel-arm64-deps
	@v=$(kver); $(KSCRIPTS)/pristine-tree.sh $(KSRC_TAR) $(KERNEL_DIR)/pristine-$$v && \
	cfgs=$$($(KSCRIPTS)/debian-configs.sh $(KERNEL_DIR)/debian-config "$$(dpkg-query -W -f='$${Version}' $(KSRC_PKG))") && \
	set -- $$cfgs && \
	$(KSCRIPTS)/module-layout-check.sh $(KERNEL_DIR)/pristine-$$v $(KERNEL_DIR)/layout-$$v $(KP_DIR) \
	  x86_64:debian-amd64:$$1 arm64:debian-arm64:$$2 \
	  x86_64:minimal:$(KFRAG):sizeof-may-grow x86_64:minimal-other:$(KFRAG)+$(KVM_DIR)/other.config:sizeof-may-grow \
	  arm64:minimal-arm64:$(KVM_DIR)/minimal-arm64.config:sizeof-may-grow

# Four builds of the same source + series (kernel-patch/scripts/kernel.sh;
# cached by source version, the series' diffs (not their messages), arch,
# fragments and build script):
#   kernel-6.1              x86_64, minimal.config
#   kernel-6.1-other        x86_64, minimal.config + other.config: the real
#                           other base the test module is built against
#   kernel-6.1-arm64        arm64, minimal-arm64.config (cross-built)
#   kernel-6.1-arm64-other  arm64, minimal-arm64.config + other.config
KVM_DIR  := vmimages/linux-6.1
kbuild = v=$(kver); $(KSCRIPTS)/kernel.sh $(KERNEL_DIR) $$v $(KSRC_TAR) $(KP_DIR) $(1) $(2) $(3)

.PHONY: kernel-6.1-other kernel-6.1-arm64 kernel-6.1-arm64-other kernel-6.1-all
.PHONY: kernel-6.1-kasan kernel-6.1-kasan-other kernel-6.1-arm64-kasan kernel-6.1-arm64-kasan-other

kernel-6.1: kernel-deps
	@$(call kbuild,linux-6.1-current,x86_64,$(KFRAG))

kernel-6.1-other: kernel-deps
	@$(call kbuild,linux-6.1-other,x86_64,$(KFRAG) $(KVM_DIR)/other.config)

kernel-6.1-arm64: kernel-deps kernel-arm64-deps
	@$(call kbuild,linux-6.1-arm64,arm64,$(KVM_DIR)/minimal-arm64.config)

kernel-6.1-arm64-other: kernel-deps kernel-arm64-deps
	@$(call kbuild,linux-6.1-arm64-other,arm64,$(KVM_DIR)/minimal-arm64.config $(KVM_DIR)/other.config)

# The same pairs with KASAN and kmemleak (vmimages/linux-6.1/kasan.config).
# KASAN selects CONSTRUCTORS, which adds members to struct module: a module
# for a KASAN kernel must be built against a KASAN kernel, hence two.
KASAN_FRAG := $(KVM_DIR)/kasan.config
kernel-6.1-kasan: kernel-deps
	@$(call kbuild,linux-6.1-kasan,x86_64,$(KFRAG) $(KASAN_FRAG))

kernel-6.1-kasan-other: kernel-deps
	@$(call kbuild,linux-6.1-kasan-other,x86_64,$(KFRAG) $(KVM_DIR)/other.config $(KASAN_FRAG))

kernel-6.1-arm64-kasan: kernel-deps kernel-arm64-deps
	@$(call kbuild,linux-6.1-arm64-kasan,arm64,$(KVM_DIR)/minimal-arm64.config $(KASAN_FRAG))

kernel-6.1-arm64-kasan-other: kernel-deps kernel-arm64-deps
	@$(call kbuild,linux-6.1-arm64-kasan-other,arm64,$(KVM_DIR)/minimal-arm64.config $(KVM_DIR)/other.config $(KASAN_FRAG))

# All eight, one after the other (a long run: nohup it).
kernel-6.1-all: kernel-6.1 kernel-6.1-other kernel-6.1-kasan kernel-6.1-kasan-other \
	kernel-6.1-arm64 kernel-6.1-arm64-other kernel-6.1-arm64-kasan kernel-6.1-arm64-kasan-other

KARM_PKGS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
.PHONY: kernel-arm64-deps
kernel-arm64-deps:
	$(call apt_need,kernel,$(KARM_PKGS))

# The VM scenario of the patched kernel is btfrecon validate's
# (mk/validate.mk: validate-6.1 builds the pair of kernels from a worktree
# of the patched tree, boots them both ways with every row, the hostile
# ones on their errno, the old-headers module, the load/unload loop and,
# with --kasan, KASAN and kmemleak). The boot targets are calls of it:
#   kernel-6.1-boot              validate-6.1
#   kernel-6.1-arm64-boot        validate-6.1 --arch arm64
#   kernel-6.1-kasan-boot        validate-6.1 --kasan
#   kernel-6.1-arm64-kasan-boot  validate-6.1 --arch arm64 --kasan
# (-kasan-pair-boot: the same as -kasan-boot; validate always boots the
# pair both ways). VALIDATE_FLAGS adds flags (--json, --loop N).
.PHONY: kernel-6.1-boot kernel-6.1-arm64-boot kernel-6.1-kasan-boot kernel-6.1-arm64-kasan-boot
.PHONY: kernel-6.1-kasan-pair-boot kernel-6.1-arm64-kasan-pair-boot
kernel-6.1-boot:
	$(MAKE) validate-6.1 VALIDATE_FLAGS="$(VALIDATE_FLAGS)"

kernel-6.1-arm64-boot: kernel-arm64-deps
	$(MAKE) validate-6.1 VALIDATE_FLAGS="--arch arm64 $(VALIDATE_FLAGS)"

kernel-6.1-kasan-boot kernel-6.1-kasan-pair-boot:
	$(MAKE) validate-6.1 VALIDATE_FLAGS="--kasan $(VALIDATE_FLAGS)"

kernel-6.1-arm64-kasan-boot kernel-6.1-arm64-kasan-pair-boot: kernel-arm64-deps
	$(MAKE) validate-6.1 VALIDATE_FLAGS="--arch arm64 --kasan $(VALIDATE_FLAGS)"
