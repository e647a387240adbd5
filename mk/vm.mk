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
#   make vm-arm64    arm64: >= 20 Debian modules
#   make vm-cycle    only the typedef-cycle boot (may end in a soft lockup)
#   make vm-hostile  the hostile .BTF.base rows in their own boot: on
#                    6.12.117 a split member type id out of range oopses in
#                    btf_relocate_map_distilled_base (amd64 and arm64), so
#                    exit status 1 is the expected verdict there
#   make vm-bench    boot-to-verdict benchmarks
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

.PHONY: vm-deps vm-deps-arm64 vm-test vm-all vm-full vm-arm64 vm-cycle vm-hostile vm-testmodule vm-bench vm-bin

define vm_apt
	@missing=; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "vm: installing$$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "vm: need root to apt-get install$$missing" >&2; exit 1; }; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && apt-get install -y --no-install-recommends $$missing; } || exit 1; \
	fi
endef

vm-deps:
	$(call vm_apt,$(VM_APT_PKGS))

vm-deps-arm64:
	$(call vm_apt,$(VM_APT_ARM64))

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

# The typedef cycle: a verdict within the timeout whatever the kernel does.
# Exit status 1 is expected when the kernel and the model disagree (the
# model refuses; the kernel may loop): the report says what happened.
vm-cycle: vm-deps testdata vm-bin
	-$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --cycle --timeout 6m --json $(VM_FLAGS) > $(VM_REPORTS)/cycle-amd64.json

vm-hostile: vm-deps testdata vm-bin
	-$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --modules nls_utf8,isofs,udf --negative=false --hostile \
	  --timeout 6m --json $(VM_FLAGS) > $(VM_REPORTS)/hostile-amd64.json

vm-testmodule: vm-deps testdata-headers vm-bin
	$(MAKE) --no-print-directory testmodule-build TM_RELEASE=$(VM_BUILD)
	$(BTFRECON_BIN) vm run --build $(VM_BUILD) --run $(VM_RUN) --modules nls_utf8 --negative=false \
	  --testmodule $(CACHE)/testmodule/$(VM_BUILD)-amd64/btfrecon_test.ko --json $(VM_FLAGS) > $(VM_REPORTS)/testmodule-amd64.json

vm-arm64: vm-deps-arm64 testdata-arm64 vm-bin
	$(BTFRECON_BIN) vm run --arch arm64 --build $(VM_BUILD) --run $(VM_RUN) --limit $(VM_ARM64_MODS) --json $(VM_FLAGS) \
	  > $(VM_REPORTS)/arm64.json

vm-all: vm-full vm-cycle vm-hostile vm-testmodule vm-arm64

vm-bench: vm-deps testdata
	BTFRECON_VM=1 $(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./harness/scenario

# Our test module, built out of tree against the build kernel's headers.
TM_RELEASE ?= $(VM_BUILD)
.PHONY: testmodule-build
testmodule-build:
	@dir=$$($(GO) run ./harness/scenario/cmd/builddir -release $(TM_RELEASE)) && \
	out=$(CACHE)/testmodule/$(TM_RELEASE)-amd64 && rm -rf $$out && mkdir -p $$out && \
	cp testmodule/btfrecon_test.c testmodule/Kbuild $$out/ && \
	$(MAKE) -C $$dir M=$$out modules && ls -l $$out/btfrecon_test.ko
