# btfrecon validate (cmd/btfrecon/validate.go, harness/kbuild): a kernel
# tree checked end to end with one command. Two kernels of the tree
# (tinyconfig + the version's minimal fragment; the second adds
# vmimages/validate-other.config, options a few files read, and is built
# from a copy of the first's objects), the test modules built
# against both, the scenario's rows booted on the second. Builds are cached
# under $(CACHE)/kbuild by tree content, patches, fragments, arch and
# toolchain. VALIDATE_FLAGS adds flags (--arch arm64, --kasan, --json).
#
#   make validate-7.2   Debian sid's linux-source-7.2 (7.2.13) as it ships
#   make validate-7.2-patched  the same with the upstream fix series
#   make validate-6.1   Debian 12's linux-source-6.1 with our series
#
# The patched trees are git worktrees of the pristine tree with the series
# applied by git am (kernel-patch/scripts/series-tree.sh), kept at one path:
# after a change to a patch only the files it touches are rewritten, and the
# kernels rebuild from their cached objects.
VALIDATE_FLAGS ?=
VALIDATE_72_TAR := $(ORACLE_SID)/pkg-$(UP_VERSION)/usr/src/linux-source-7.2.tar.xz

.PHONY: validate-7.2 validate-7.2-patched validate-6.1
validate-7.2: btfrecon upstream-deps oracle-sid-src
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(VALIDATE_72_TAR) $(VALIDATE_FLAGS)

validate-7.2-patched: btfrecon upstream-tree
	@$(KSCRIPTS)/series-tree.sh $(UP_PRISTINE) $(UP_DIR)/validate-tree $(UP_KP)/series
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(UP_DIR)/validate-tree $(VALIDATE_FLAGS)

# validate-6.1 passes the pristine tree as --old-headers (the test module
# built against the unpatched headers must load, or be refused for struct
# module's size) and needs the libbpf oracle (validate fails without it on
# our series: the model rows' bytes are checked against libbpf first).
validate-6.1: btfrecon kernel-deps oracle-1.5
	@v=$(kver); $(KSCRIPTS)/pristine-tree.sh $(KSRC_TAR) $(KERNEL_DIR)/pristine-$$v && \
	$(KSCRIPTS)/series-tree.sh $(KERNEL_DIR)/pristine-$$v $(KERNEL_DIR)/validate-$$v $(KP_DIR)/series
	BTFRECON_SRC=$(CURDIR) ./btfrecon validate --tree $(KERNEL_DIR)/validate-$(kver) \
	  --old-headers $(KERNEL_DIR)/pristine-$(kver) $(VALIDATE_FLAGS)
