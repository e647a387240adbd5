# The libbpf oracle: libbpf 1.5.0 from Debian's linux-source-6.12 plus our own
# driver (harness/oracle/driver.c, the libbpf backend of the drivers' frame,
# harness/oracle/frame.c), built into $(CACHE)/oracle/.
#
#   make oracle        install missing packages, extract, build libbpf.a and
#                      $(CACHE)/oracle/btfrecon-oracle (only what changed)
#   make oracle-clean  remove $(CACHE)/oracle
#
# Rebuilds happen when the driver or frame changes or the linux-source-6.12 package
# version changes (the source tree and libbpf build dirs are per version).

ORACLE_PKG      := linux-source-6.12
ORACLE_TAR      := /usr/src/linux-source-6.12.tar.xz
ORACLE_TOPDIR   := linux-source-6.12
ORACLE_DIR      := $(CACHE)/oracle
ORACLE_BIN      := $(ORACLE_DIR)/btfrecon-oracle
ORACLE_DRIVER   := harness/oracle/driver.c harness/oracle/frame.c
ORACLE_DRV_HDRS := harness/oracle/frame.h
ORACLE_APT_PKGS := $(ORACLE_PKG) libelf-dev zlib1g-dev gcc libc6-dev make xz-utils python3
# What libbpf's build needs from the tree (the build proved nothing else is).
ORACLE_MEMBERS  := tools/lib/bpf tools/include tools/scripts tools/build tools/arch \
		   scripts/bpf_doc.py include/uapi/linux/bpf.h
ORACLE_CFLAGS   ?= -O2 -g -Wall -Wextra -Wno-unused-parameter

.PHONY: oracle oracle-deps oracle-build oracle-clean

# Step 1 (always): packages. Step 2: everything else, in a sub-make that
# knows the source package version (it may have just been installed).
oracle: oracle-deps
	@v=$$(dpkg-query -W -f='$${Version}' $(ORACLE_PKG) 2>/dev/null | tr '~:' '__'); \
	test -n "$$v" || { echo "oracle: cannot read the version of $(ORACLE_PKG)" >&2; exit 1; }; \
	$(MAKE) --no-print-directory oracle-build ORACLE_VER="$$v"

oracle-deps:
	$(call apt_need,oracle,$(ORACLE_APT_PKGS))
	@test -f $(ORACLE_TAR) || { echo "oracle: $(ORACLE_TAR) missing after installing $(ORACLE_PKG)" >&2; exit 1; }

ifdef ORACLE_VER
ORACLE_SRC   := $(ORACLE_DIR)/src-$(ORACLE_VER)
ORACLE_BUILD := $(ORACLE_DIR)/build-$(ORACLE_VER)
ORACLE_LIB   := $(ORACLE_BUILD)/libbpf.a

oracle-build: $(ORACLE_BIN)
	@echo "oracle: $(ORACLE_BIN) ($$($(ORACLE_BIN) version))"

# Tree extraction: only the members libbpf needs, into a temp dir renamed
# into place once complete; the libbpf version is checked before the rename.
$(ORACLE_SRC)/.complete:
	@mkdir -p $(ORACLE_DIR)
	@rm -rf $(ORACLE_DIR)/.src-tmp.*
	@tmp=$$(mktemp -d $(ORACLE_DIR)/.src-tmp.XXXXXX) && chmod 755 "$$tmp" && \
	echo "oracle: extracting libbpf sources of $(ORACLE_PKG) $(ORACLE_VER)" && \
	TIMEFORMAT="oracle: extracted in %R s" && time \
	tar -xJf $(ORACLE_TAR) -C "$$tmp" --strip-components=1 \
	  $(addprefix $(ORACLE_TOPDIR)/,$(ORACLE_MEMBERS)) && \
	h="$$tmp/tools/lib/bpf/libbpf_version.h" && \
	maj=$$(awk '$$2=="LIBBPF_MAJOR_VERSION"{print $$3}' "$$h") && \
	min=$$(awk '$$2=="LIBBPF_MINOR_VERSION"{print $$3}' "$$h") && \
	last=$$(grep -o '^LIBBPF_[0-9.]*' "$$tmp/tools/lib/bpf/libbpf.map" | tail -1) && \
	if [ "$$maj.$$min" != 1.5 ] || [ "$$last" != LIBBPF_1.5.0 ]; then \
	  echo "oracle: FATAL: expected libbpf 1.5.0, $(ORACLE_TAR) has $$maj.$$min ($$last in libbpf.map)" >&2; \
	  rm -rf "$$tmp"; exit 1; \
	fi && \
	echo "oracle: libbpf $$maj.$$min.0 ($$last)" && \
	touch "$$tmp/.complete" && rm -rf $(ORACLE_SRC) && mv -T "$$tmp" $(ORACLE_SRC)

# libbpf.a; the stamp is written only after a successful build.
$(ORACLE_BUILD)/.built: $(ORACLE_SRC)/.complete
	@mkdir -p $(ORACLE_BUILD)
	@echo "oracle: building libbpf.a"
	@TIMEFORMAT="oracle: libbpf.a built in %R s" && time \
	MAKEFLAGS= $(MAKE) --no-print-directory -s -C $(ORACLE_SRC)/tools/lib/bpf -j$$(nproc) \
	  OUTPUT=$(ORACLE_BUILD)/ $(ORACLE_LIB)
	@touch $@

# Records the source version so that switching back to an older one also
# relinks the driver.
$(ORACLE_DIR)/version: FORCE_ORACLE_VERSION
	@mkdir -p $(ORACLE_DIR)
	@[ "$$(cat $@ 2>/dev/null)" = "$(ORACLE_VER)" ] || echo "$(ORACLE_VER)" > $@

$(ORACLE_BIN): $(ORACLE_DRIVER) $(ORACLE_DRV_HDRS) $(ORACLE_BUILD)/.built $(ORACLE_DIR)/version
	@echo "oracle: compiling $(ORACLE_DRIVER)"
	@TIMEFORMAT="oracle: driver built in %R s" && time \
	$${CC:-gcc} $(ORACLE_CFLAGS) -I$(ORACLE_SRC)/tools/lib -I$(ORACLE_SRC)/tools/include/uapi \
	  -DBTFRECON_SRC_VERSION='"$(ORACLE_VER)"' \
	  -o $@.tmp $(ORACLE_DRIVER) $(ORACLE_LIB) -lelf -lz
	@mv -f $@.tmp $@
else
oracle-build:
	@echo "oracle-build: run 'make oracle'" >&2; exit 1
endif

.PHONY: FORCE_ORACLE_VERSION
FORCE_ORACLE_VERSION:

oracle-clean:
	rm -rf $(ORACLE_DIR)
