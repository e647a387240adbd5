# btfrecon validate (cmd/btfrecon/validate.go, harness/kbuild): a kernel
# tree checked end to end with one command. Two kernels of the tree
# (tinyconfig + the version's minimal fragment; the second + other.config,
# built from a copy of the first's objects), the test modules built
# against both, the scenario's rows booted on the second. Builds are cached
# under $(CACHE)/kbuild by tree content, patches, fragments, arch and
# toolchain. VALIDATE_FLAGS adds flags (--arch arm64, --kasan, --json).
#
#   make validate-7.2   Debian sid's linux-source-7.2 (7.2.13) as it ships
#   make validate-7.2-patched  the same with the upstream fix series
#   make validate-6.1   Debian 12's linux-source-6.1 with our series
VALIDATE_FLAGS ?=
VALIDATE_72_TAR := $(ORACLE_SID)/pkg-$(UP_VERSION)/usr/src/linux-source-7.2.tar.xz
VALIDATE_72_SERIES := $(addprefix $(UP_KP)/series/,$(shell grep -v '^\#' $(UP_KP)/series/series 2>/dev/null))
VALIDATE_61_SERIES := $(addprefix $(KP_DIR)/series/,$(shell grep -v '^\#' $(KP_DIR)/series/series 2>/dev/null))

.PHONY: validate-7.2 validate-7.2-patched validate-6.1
validate-7.2: btfrecon upstream-deps oracle-sid-src
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(VALIDATE_72_TAR) $(VALIDATE_FLAGS)

validate-7.2-patched: btfrecon upstream-deps oracle-sid-src
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(VALIDATE_72_TAR) \
	  $(addprefix --patch ,$(VALIDATE_72_SERIES)) $(VALIDATE_FLAGS)

validate-6.1: btfrecon kernel-deps
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(KSRC_TAR) \
	  $(addprefix --patch ,$(VALIDATE_61_SERIES)) $(VALIDATE_FLAGS)
