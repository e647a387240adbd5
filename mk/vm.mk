# The VM harness: boot Debian kernels under QEMU (KVM when it works, else
# TCG) with a u-root initramfs, load distilled modules, diff
# /sys/kernel/btf/<module> against the model. Everything runs as real boots,
# so none of it is part of `go test ./...` (the VM tests skip unless
# BTFRECON_VM=1).
#
#   make vm-test     CI tier: one boot returning vmlinux BTF, one small
#                    amd64 scenario (6.12.107 -> 6.12.117) with the
#                    before/after, negative and hostile rows
#   make vm-all      the full amd64 scenario (all-loadable), the typedef
#                    cycle boot, the test module, and arm64
#   make vm-arm64    arm64: >= 20 Debian modules and our test module
#                    (cross-built with gcc-aarch64-linux-gnu)
#   make vm-cycle    only the typedef-cycle boot, checked against what
#                    6.12.117 does (see below)
#   make vm-hostile  the hostile .BTF.base rows in their own boot, checked
#                    against the recorded outcome: on 6.12.117 a split member
#                    type id out of range oopses in
#                    btf_relocate_map_distilled_base (amd64 and arm64)
#   make vm-bench    boot-to-verdict benchmarks
#   make vm-bench-every  the whole package once: modules compared per second
#   make vm-upstream every Alone case of harness/cases in a boot of its own on
#                    6.12.117 and 7.2.13, judged by the catalog's records (the
#                    upstream bugs: array cycles hang the load, a split PTR past
#                    the end loads with garbage BTF, a split member past the end
#                    oopses, a .BTF_ids kfunc id past the id map indexes it
#                    unchecked); VM_EXPECT_ARCH=arm64 for arm64
#   make vm-every    every module of the package (vm run --modules all), a
#                    schedule of boots two at a time: 6.12.107 -> 6.12.117
#                    amd64 and arm64, trixie 6.12.107+deb13 -> 6.12.117+deb13;
#                    a module that takes a guest down is isolated in a boot of
#                    its own and the run goes on
#   make vm-suites   beyond bookworm: trixie 6.12.107+deb13 -> 6.12.117+deb13
#                    (amd64 all-loadable, arm64 VM_ARM64_MODS), sid 7.2.13
#                    loading its own modules distilled by the model (amd64,
#                    arm64; MODULE_ALLOW_BTF_MISMATCH is not set there, so a
#                    refusal fails the load), and compat trixie -> sid
#
# Reports (JSON) land in $(CACHE)/vm/reports/.

VM_APT_PKGS    := qemu-system-x86 qemu-utils
VM_APT_ARM64   := qemu-system-arm ipxe-qemu
VM_BUILD       ?= 6.12.107
VM_RUN         ?= 6.12.117
VM_SMALL       ?= nls_utf8,nls_cp437,nls_iso8859_1,vfat,isofs,udf,crc_itu_t,crc7,libcrc32c,btrfs
VM_ARM64_MODS  ?= 20
VM_REPORTS     := $(CACHE)/vm/reports
BTFRECON_BIN   := $(CACHE)/vm/btfrecon
VM_FLAGS       ?=

.PHONY: vm-deps vm-deps-arm64 vm-test vm-all vm-full vm-arm64 vm-cycle vm-hostile vm-testmodule vm-bench vm-bin vm-suites vm-upstream vm-every vm-bench-every

VM_TRIXIE_A ?= 6.12.107+deb13
VM_TRIXIE_B ?= 6.12.117+deb13
VM_SID      ?= 7.2.13+deb14

vm-deps:
	$(call apt_need,vm,$(VM_APT_PKGS))

vm-deps-arm64:
	$(call apt_need,vm,$(VM_APT_ARM64))

vm-bin:
	@mkdir -p $(dir $(BTFRECON_BIN)) $(VM_REPORTS)
	$(GO) build -o $(BTFRECON_BIN) ./cmd/btfrecon

# CI: ~2 boots; the first run also builds the initramfs (~1 min) and probes KVM.
vm-test: vm-deps testdata vm-bin
	BTFRECON_VM=1 BTFRECON_REQUIRE_DATA=1 $(GO) test -count=1 -timeout 30m -run 'TestBootReturnsBytes' -v ./harness/vm
	$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --modules $(VM_SMALL) --json $(VM_FLAGS) \
	  > $(VM_REPORTS)/small-amd64.json
	@echo "vm-test: report in $(VM_REPORTS)/small-amd64.json"

vm-full: vm-deps testdata vm-bin
	$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --json $(VM_FLAGS) > $(VM_REPORTS)/full-amd64.json

# The typedef cycle and the hostile rows are judged by recorded expectations
# (scenario.ExpectCycle / ExpectHostile), not by "every row agrees":
#   vm-cycle    6.12.117 rejects the loop ("Max chain length or cycle
#               detected", module loaded without BTF), the model refuses it
#               (-ELOOP), the boot ends cleanly;
#   vm-hostile  every hostile .BTF.base row is refused by kernel and model
#               without a crash, except split-id-out-of-range, which on
#               6.12.117 oopses in btf_relocate_map_distilled_base (the
#               recorded finding; any other outcome fails the target).
# VM_EXPECT_ARCH=arm64 runs them on arm64.
# The hostile rows are cut from leaf modules (no dependencies): act_bpf's
# split has a struct with members, which split-id-out-of-range needs
# (nls_utf8's has none).
VM_EXPECT_ARCH  ?= amd64
VM_HOSTILE_MODS ?= act_bpf,nls_utf8
vm-cycle: vm-deps $(if $(filter arm64,$(VM_EXPECT_ARCH)),vm-deps-arm64 testdata-arm64,testdata) vm-bin
	$(BTFRECON_BIN) vm run --arch $(VM_EXPECT_ARCH) --build $(VM_BUILD) --run $(VM_RUN) --cycle --expect cycle --timeout 6m --json $(VM_FLAGS) \
	  > $(VM_REPORTS)/cycle-$(VM_EXPECT_ARCH).json

vm-hostile: vm-deps $(if $(filter arm64,$(VM_EXPECT_ARCH)),vm-deps-arm64 testdata-arm64,testdata) vm-bin
	$(BTFRECON_BIN) vm run --arch $(VM_EXPECT_ARCH) --build $(VM_BUILD) --run $(VM_RUN) --modules $(VM_HOSTILE_MODS) --negative=false --hostile \
	  --expect hostile --timeout 6m --json $(VM_FLAGS) > $(VM_REPORTS)/hostile-$(VM_EXPECT_ARCH).json

vm-testmodule: vm-deps testdata-headers vm-bin
	$(MAKE) --no-print-directory testmodule-build TM_RELEASE=$(VM_BUILD)
	$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --modules nls_utf8 --negative=false \
	  --testmodule $(CACHE)/testmodule/$(VM_BUILD)-amd64/btfrecon_test.ko --json $(VM_FLAGS) > $(VM_REPORTS)/testmodule-amd64.json

vm-arm64: vm-deps-arm64 testdata-arm64 vm-bin
	$(MAKE) --no-print-directory testmodule-build TM_RELEASE=$(VM_BUILD) TM_ARCH=arm64
	$(BTFRECON_BIN) vm run --arch arm64 --build $(VM_BUILD) --run $(VM_RUN) --limit $(VM_ARM64_MODS) \
	  --testmodule $(CACHE)/testmodule/$(VM_BUILD)-arm64/btfrecon_test.ko --json $(VM_FLAGS) > $(VM_REPORTS)/arm64.json

vm-all: vm-full vm-cycle vm-hostile vm-testmodule vm-arm64

vm-bench: vm-deps testdata
	BTFRECON_VM=1 $(GO) test -run '^$$' -bench BootToVerdict -benchtime 3x -timeout 60m ./harness/scenario

# The whole package end to end, once (minutes): modules compared per second.
vm-bench-every: vm-deps testdata
	BTFRECON_VM=1 $(GO) test -run '^$$' -bench EveryModule -benchtime 1x -timeout 90m ./harness/scenario

# Our test module, built out of tree against the build kernel's headers.
# TM_ARCH=arm64 cross-builds it on an amd64 host: Debian's arm64 headers,
# the amd64 set's headers-common and kbuild host tools (builddir -arch arm64
# merges them), gcc-aarch64-linux-gnu (the same gcc 12 Debian built with).
TM_RELEASE ?= $(VM_BUILD)
TM_ARCH    ?= amd64
TM_CROSS_amd64 :=
TM_CROSS_arm64 := ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
.PHONY: testmodule-build testmodule-deps-arm64
testmodule-deps-arm64:
	$(call apt_need,vm,gcc-aarch64-linux-gnu)

testmodule-build: $(if $(filter arm64,$(TM_ARCH)),testmodule-deps-arm64)
	@dir=$$($(GO) run ./cmd/builddir -release $(TM_RELEASE) -arch $(TM_ARCH)) && \
	out=$(CACHE)/testmodule/$(TM_RELEASE)-$(TM_ARCH) && rm -rf $$out && mkdir -p $$out && \
	cp testmodule/btfrecon_test.c testmodule/Kbuild $$out/ && \
	$(MAKE) -C $$dir M=$$out $(TM_CROSS_$(TM_ARCH)) modules && ls -l $$out/btfrecon_test.ko

# Kernels beyond the pinned catalog are resolved from the archive on first
# use (harness/kernels), so this needs the Debian mirror the first time.
vm-suites: vm-deps vm-deps-arm64 vm-bin
	$(BTFRECON_BIN) vm run --build $(VM_TRIXIE_A) --run $(VM_TRIXIE_B) --json $(VM_FLAGS) > $(VM_REPORTS)/trixie-amd64.json
	$(BTFRECON_BIN) vm run --build $(VM_SID) --run $(VM_SID) --json $(VM_FLAGS) > $(VM_REPORTS)/sid-amd64.json
	$(BTFRECON_BIN) vm run --arch arm64 --build $(VM_TRIXIE_A) --run $(VM_TRIXIE_B) --limit $(VM_ARM64_MODS) --json $(VM_FLAGS) \
	  > $(VM_REPORTS)/trixie-arm64.json
	$(BTFRECON_BIN) vm run --arch arm64 --build $(VM_SID) --run $(VM_SID) --limit $(VM_ARM64_MODS) --json $(VM_FLAGS) \
	  > $(VM_REPORTS)/sid-arm64.json
	$(BTFRECON_BIN) compat --build $(VM_TRIXIE_B) --run $(VM_SID) > $(VM_REPORTS)/compat-trixie-sid.txt
	@echo "vm-suites: reports in $(VM_REPORTS)"

VM_UPSTREAM_KERNELS ?= 6.12.117 7.2.13+deb14
VM_UPSTREAM_CASES   ?= hostile:typedef-cycle hostile:array-cycle hostile:array-typedef-cycle hostile:ptr-id-out-of-range \
		       hostile:split-id-out-of-range hostile:btf-ids-out-of-range
# VM_EXPECT_ARCH=arm64 boots them on arm64 (TCG: 4 minutes a boot at most).
# tcp_bbr: a leaf module with a kfunc set, registered from its init.
vm-upstream: vm-deps $(if $(filter arm64,$(VM_EXPECT_ARCH)),vm-deps-arm64) vm-bin
	@set -e; for k in $(VM_UPSTREAM_KERNELS); do for c in $(VM_UPSTREAM_CASES); do \
	  m=nls_utf8; [ $$c = hostile:split-id-out-of-range ] && m=act_bpf; [ $$c = hostile:btf-ids-out-of-range ] && m=tcp_bbr; \
	  echo "vm-upstream: $$c on $$k $(VM_EXPECT_ARCH)"; \
	  $(BTFRECON_BIN) vm run --arch $(VM_EXPECT_ARCH) --build $$k --run $$k --modules $$m --case $$c --expect case \
	    --timeout $(if $(filter arm64,$(VM_EXPECT_ARCH)),4m,3m) --json $(VM_FLAGS) \
	    > $(VM_REPORTS)/upstream-$(VM_EXPECT_ARCH)-$$(echo $$k-$$c | tr ':+' '__').json; \
	done; done

# Every module of the package, on both arches and on trixie. Each report
# lists every module not loaded with its cause; exit 1 on any disagreement.
VM_EVERY_FLAGS ?=
vm-every: vm-deps vm-deps-arm64 testdata testdata-arm64 vm-bin
	$(BTFRECON_BIN) vm run --modules all --build $(VM_BUILD) --run $(VM_RUN) --json $(VM_EVERY_FLAGS) > $(VM_REPORTS)/every-amd64.json
	$(BTFRECON_BIN) vm run --modules all --arch arm64 --build $(VM_BUILD) --run $(VM_RUN) --json $(VM_EVERY_FLAGS) > $(VM_REPORTS)/every-arm64.json
	$(BTFRECON_BIN) vm run --modules all --build $(VM_TRIXIE_A) --run $(VM_TRIXIE_B) --json $(VM_EVERY_FLAGS) > $(VM_REPORTS)/every-trixie-amd64.json
	@echo "vm-every: reports in $(VM_REPORTS)/every-*.json"
