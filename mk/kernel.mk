# The kernel side: our C reconciliation core (kernel-patch/core/), built in
# userspace behind the oracle's CLI, the three-way differential (Go model, C
# core, libbpf), mutation testing, fuzzing, and the Linux 6.1 patch series.
#
#   make ccore        build $(CACHE)/ccore/btfrecon-ccore
#   make ccore-test   fast checks: C core vs Go model on generated cases
#   make ccore-fuzz   libFuzzer + ASan/UBSan on the core (CCORE_FUZZ_SECONDS)
#   make threeway     Go model vs C core vs libbpf: corpus + generated cases
#   make mutants      mutate the core, expect the differential to fail each time
#   make patch-check  git am the series on a fresh 6.1 tree; core identity,
#                     checkpatch --strict, W=1 and sparse builds of what it touches
#   make kernel-6.1   build the patched minimal x86_64 6.1 kernel (cached)
#   make kernel-6.1-boot  boot it under QEMU TCG, load a test module with a
#                     distilled .BTF.base, compare /sys/kernel/btf/<mod> to the model

KP_DIR        := kernel-patch
CCORE_DIR     := $(CACHE)/ccore
CCORE_BIN     := $(CCORE_DIR)/btfrecon-ccore
CCORE_SRC     := $(KP_DIR)/core/btf_reconcile.c
CCORE_HDRS    := $(KP_DIR)/core/btf_reconcile.h $(KP_DIR)/userspace/shim.h \
		 $(wildcard $(KP_DIR)/userspace/include/*/*.h $(KP_DIR)/userspace/include/*/*/*.h)
CCORE_DRIVER  := $(KP_DIR)/userspace/driver.c
CCORE_CC      ?= gcc
CCORE_CFLAGS  ?= -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror
# The core is built exactly as the kernel sees it, plus the shim.
CCORE_CPPFLAGS = -D_GNU_SOURCE -include $(KP_DIR)/userspace/shim.h -I$(KP_DIR)/userspace/include

.PHONY: ccore ccore-test ccore-fuzz threeway mutants

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
	$(GO) run ./harness/threeway/cmd/threeway -ccore $(CCORE_BIN) $(THREEWAY_FLAGS)

# Mutation testing: each mutant of the core must be caught by the
# differential (generated cases, plus a corpus sample). Last line "killed K/T".
MUTANTS_FLAGS ?= -corpus-step 16
mutants: oracle
	$(GO) run ./harness/threeway/cmd/mutants -core $(CCORE_SRC) \
	  -cc "$(CCORE_CC) $(CCORE_CFLAGS) $(CCORE_CPPFLAGS)" -driver $(CCORE_DRIVER) \
	  -workdir $(CCORE_DIR)/mutants $(MUTANTS_FLAGS)

# libFuzzer with ASan and UBSan over the core, for a bounded time.
CCORE_FUZZ_SECONDS ?= 60
CCORE_FUZZ_BIN     := $(CCORE_DIR)/ccore-fuzz
$(CCORE_FUZZ_BIN): $(CCORE_SRC) $(KP_DIR)/userspace/fuzz.c $(CCORE_HDRS)
	@mkdir -p $(CCORE_DIR)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(CCORE_CPPFLAGS) -o $@ $(CCORE_SRC) $(KP_DIR)/userspace/fuzz.c

ccore-fuzz: $(CCORE_FUZZ_BIN)
	@mkdir -p $(CCORE_DIR)/fuzz-corpus
	$(GO) run ./harness/threeway/cmd/fuzzseeds -out $(CCORE_DIR)/fuzz-corpus
	$(CCORE_FUZZ_BIN) -max_total_time=$(CCORE_FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -artifact_prefix=$(CCORE_DIR)/ $(CCORE_DIR)/fuzz-corpus

# ---- Linux 6.1 + our series -------------------------------------------------
KSRC_PKG   := linux-source-6.1
KSRC_TAR   := /usr/src/linux-source-6.1.tar.xz
KERNEL_DIR := $(CACHE)/kernel
KFRAG      := vmimages/linux-6.1/minimal.config
KSCRIPTS   := $(KP_DIR)/scripts
KAPT_PKGS  := $(KSRC_PKG) dwarves sparse python3-ply python3-git bc bison flex libelf-dev libssl-dev cpio busybox-static qemu-system-x86

.PHONY: kernel-deps patch-check kernel-6.1 kernel-6.1-boot

kernel-deps:
	@missing=; for p in $(KAPT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "kernel: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && apt-get install -y --no-install-recommends $$missing; } || exit 1; \
	fi

# The pristine tree is a git repository, one per source package version.
kver = $$(dpkg-query -W -f='$${Version}' $(KSRC_PKG) | tr '~:' '__')

patch-check: kernel-deps
	@v=$(kver); $(KSCRIPTS)/pristine-tree.sh $(KSRC_TAR) $(KERNEL_DIR)/pristine-$$v && \
	$(KSCRIPTS)/patch-check.sh $(KERNEL_DIR)/pristine-$$v $(KERNEL_DIR)/check-$$v $(KP_DIR) $(KFRAG)

# Cached by source version, series (patches + series file), config fragment
# and build script.
kernel-6.1: kernel-deps
	@v=$(kver); \
	key=$$(cat $(KP_DIR)/series/series $(KP_DIR)/series/*.patch $(KFRAG) $(KSCRIPTS)/build-kernel.sh | sha256sum | cut -c1-12); \
	out=$(KERNEL_DIR)/linux-$$v-$$key; \
	if [ -f $$out/build/.built ]; then echo "kernel-6.1: cached $$out ($$(cat $$out/build/.built))"; exit 0; fi; \
	$(KSCRIPTS)/pristine-tree.sh $(KSRC_TAR) $(KERNEL_DIR)/pristine-$$v && \
	$(KSCRIPTS)/apply-series.sh $(KERNEL_DIR)/pristine-$$v $$out/src $(CURDIR)/$(KP_DIR)/series && \
	$(KSCRIPTS)/build-kernel.sh $$out/src $$out/build $(CURDIR)/$(KFRAG) > $$out/build.log 2>&1 \
	  || { tail -30 $$out/build.log; exit 1; }; \
	cat $$out/build/.built; ln -sfn $$out $(KERNEL_DIR)/linux-6.1-current

# Build the test module against the patched kernel, make the module variants
# with the model, boot, compare.
kernel-6.1-boot: kernel-6.1 oracle
	@k=$(KERNEL_DIR)/linux-6.1-current; case=$$k/vmcase; rm -rf $$case; mkdir -p $$case/mod; \
	cp $(KP_DIR)/testmod/* $$case/mod/ && \
	$(MAKE) -s -C $$k/build M=$$case/mod modules && \
	$(GO) run ./harness/threeway/cmd/vmcase -vmlinux $$k/build/vmlinux -module $$case/mod/btfrecon_test.ko -out $$case && \
	$(KSCRIPTS)/boot-test.sh $$k/build/arch/x86/boot/bzImage $$case
