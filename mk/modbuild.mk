# Real distillers: out-of-tree modules built by each kernel's own Debian
# toolchain (harness/modbuild: a debootstrap chroot of the kernel's suite,
# set up once under $(CACHE)/chroot), held against the model.
#
# modbuild-check: every module of MODBUILD_MODULES built for every kernel of
#   MODBUILD_KERNELS and arch of MODBUILD_ARCHES with `btfrecon module build
#   --distiller model`, which exits 1 unless the model's .BTF, .BTF.base and
#   .BTF_ids are byte-identical to what the kernel's build wrote. The model's
#   modules land in $(MODBUILD_OUT)/<kernel>-<arch>/.
# modbuild-repro: each of those loaded on MODBUILD_RUN_<kernel> in a VM
#   (btfrecon repro): the kernel's /sys/kernel/btf/<module> against the model.
# modbuild-kfunc: kfuncset's kfuncs called by the ids the model predicts,
#   from a BPF program in a guest of each run kernel (btfrecon module call),
#   and a function outside the set refused (amd64).
# modbuild-testdata: the real toolchain's outputs the fast tests hold the
#   model to (harness/recon and harness/modbuild testdata/modbuild/).
# modbuild-chroots: only the set-up (time and size are printed).
.PHONY: modbuild-deps modbuild-bin modbuild-chroots modbuild-check modbuild-repro modbuild-kfunc modbuild-testdata

# build:run pairs: the kernel a module is built for, the kernel it is loaded on.
MODBUILD_PAIRS   ?= 6.12.107+deb13:6.12.117+deb13 7.2.13+deb14:7.2.13+deb14
MODBUILD_KERNELS ?= $(foreach p,$(MODBUILD_PAIRS),$(firstword $(subst :, ,$(p))))
MODBUILD_ARCHES  ?= amd64 arm64
MODBUILD_MODULES ?= testmodule testmodule/kfuncset testmodule/structs
MODBUILD_OUT     ?= $(CACHE)/modbuild/out
MODBUILD_BIN     := $(CACHE)/modbuild/btfrecon

modbuild-deps:
	$(call apt_need,modbuild,debootstrap)

modbuild-bin:
	@mkdir -p $(dir $(MODBUILD_BIN))
	$(GO) build -o $(MODBUILD_BIN) ./cmd/btfrecon

modbuild-chroots: modbuild-bin modbuild-deps
	@set -e; for k in $(MODBUILD_KERNELS); do for a in $(MODBUILD_ARCHES); do \
	  $(MODBUILD_BIN) module chroot --kernel $$k --arch $$a; \
	done; done

modbuild-check: modbuild-bin modbuild-deps
	@set -e; fail=0; for k in $(MODBUILD_KERNELS); do for a in $(MODBUILD_ARCHES); do for m in $(MODBUILD_MODULES); do \
	  out=$(MODBUILD_OUT)/$$k-$$a; mkdir -p $$out; \
	  echo "== modbuild-check: $$m for $$k $$a"; \
	  $(MODBUILD_BIN) module build $$m --kernel $$k --arch $$a --distiller model -o $$out/$$(basename $$m).ko || fail=1; \
	done; done; done; \
	if [ $$fail = 0 ]; then echo "modbuild-check: the model matches every build"; else echo "modbuild-check: DIFFERENCES (see above)"; exit 1; fi

modbuild-repro: modbuild-bin
	@set -e; for p in $(MODBUILD_PAIRS); do k=$${p%%:*}; r=$${p#*:}; \
	  for a in $(MODBUILD_ARCHES); do for m in $(MODBUILD_MODULES); do \
	  ko=$(MODBUILD_OUT)/$$k-$$a/$$(basename $$m).ko; \
	  [ -f $$ko ] || { echo "modbuild-repro: $$ko missing: make modbuild-check first"; exit 1; }; \
	  echo "== modbuild-repro: $$ko on $$r $$a"; \
	  BTFRECON_SRC=$(CURDIR) $(MODBUILD_BIN) repro $$ko --run $$r --arch $$a; \
	done; done; done

modbuild-kfunc: modbuild-bin
	@set -e; for p in $(MODBUILD_PAIRS); do k=$${p%%:*}; r=$${p#*:}; ko=$(MODBUILD_OUT)/$$k-amd64/kfuncset.ko; \
	  [ -f $$ko ] || { echo "modbuild-kfunc: $$ko missing: make modbuild-check first"; exit 1; }; \
	  for f in add peek zap; do \
	    $(MODBUILD_BIN) module call $$ko --kernel $$r --kfunc btfrecon_kfuncset_$$f --arg 1000; \
	  done; \
	  if $(MODBUILD_BIN) module call $$ko --kernel $$r --kfunc btfrecon_kfuncset_get --arg 1; then \
	    echo "modbuild-kfunc: btfrecon_kfuncset_get is not in the set, yet the call went through"; exit 1; \
	  else echo "modbuild-kfunc: btfrecon_kfuncset_get refused, as it must be"; fi; \
	done

# The fast tests' real data: for each kernel and module, pahole's split
# (split.btf) and the build's .BTF, .BTF.base (harness/recon), and the
# module as pahole got it, debug info stripped (pre.ko), with the build's
# .BTF, .BTF.base and .BTF_ids (harness/modbuild).
# amd64 only: the host's objcopy cuts the sections.
MODBUILD_TESTDATA_MODULES ?= testmodule/kfuncset testmodule/structs
modbuild-testdata: modbuild-bin modbuild-deps
	@set -e; for k in $(MODBUILD_KERNELS); do for a in amd64; do for m in $(MODBUILD_TESTDATA_MODULES); do \
	  n=$$(basename $$m); tmp=$$(mktemp -d); \
	  $(MODBUILD_BIN) module build $$m --kernel $$k --arch $$a -o $$tmp/out.ko --keep $$tmp >/dev/null; \
	  r=harness/recon/testdata/modbuild/$$k-$$a/$$n; b=harness/modbuild/testdata/$$k-$$a/$$n; \
	  mkdir -p $$r $$b; cp $$tmp/split.btf $$r/split.btf; \
	  objcopy --dump-section .BTF=$$r/BTF --dump-section .BTF.base=$$r/BTF.base $$tmp/built.ko $$tmp/junk.o; \
	  cp $$r/BTF $$r/BTF.base $$b/; \
	  if objcopy --dump-section .BTF_ids=$$b/BTF_ids $$tmp/built.ko $$tmp/junk.o 2>/dev/null; then :; else rm -f $$b/BTF_ids; fi; \
	  objcopy --strip-debug $$tmp/pre.ko $$b/pre.ko; \
	  rm -rf $$tmp; echo "modbuild-testdata: $$k $$a $$n"; \
	done; done; done
