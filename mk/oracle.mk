# The libbpf oracles: our own driver (harness/oracle/driver.c, the libbpf
# backend of the drivers' frame, harness/oracle/frame.c) linked against
#
#   libbpf 1.5.0  from Debian's linux-source-6.12 (bookworm, apt-installed)
#                 -> $(CACHE)/oracle/btfrecon-oracle      (the default oracle)
#   libbpf 1.8.0  from Debian sid's linux-source-7.2 (fetched with a private
#                 apt configuration, /etc/apt untouched)
#                 -> $(CACHE)/oracle/btfrecon-oracle-1.8
#
#   make oracle        both (install missing packages, fetch, extract, build
#                      libbpf.a and the driver; only what changed)
#   make oracle-1.5    only libbpf 1.5;  make oracle-1.8  only libbpf 1.8
#   make oracle-clean  remove $(CACHE)/oracle
#
# Each source tree and libbpf build dir is per Debian package version; the
# libbpf version in it is asserted (libbpf_version.h and libbpf.map) before
# it is used. A driver is relinked when the driver, the frame or its source
# version changes.
#
# The sid package is fetched once: $(ORACLE_SID)/version names the version
# whose .deb was downloaded, checked against apt-cache's SHA256 and extracted
# to $(ORACLE_SID)/pkg-<version>/. Delete that file (or run
# `make oracle-sid-refresh`) to fetch sid's current linux-source-7.2 again.

ORACLE_DIR      := $(CACHE)/oracle
ORACLE_BIN      := $(ORACLE_DIR)/btfrecon-oracle
ORACLE18_BIN    := $(ORACLE_DIR)/btfrecon-oracle-1.8
ORACLE_DRIVER   := harness/oracle/driver.c harness/oracle/frame.c
ORACLE_DRV_HDRS := harness/oracle/frame.h
ORACLE_APT_PKGS := linux-source-6.12 libelf-dev zlib1g-dev gcc libc6-dev make xz-utils python3 \
		   debian-archive-keyring
# What libbpf's build needs from the tree (the build proved nothing else is;
# the same list builds 1.5 and 1.8).
ORACLE_MEMBERS  := tools/lib/bpf tools/include tools/scripts tools/build tools/arch \
		   scripts/bpf_doc.py include/uapi/linux/bpf.h
ORACLE_CFLAGS   ?= -O2 -g -Wall -Wextra -Wno-unused-parameter

# libbpf 1.5: the installed linux-source-6.12.
ORACLE15_PKG    := linux-source-6.12
ORACLE15_TAR    := /usr/src/linux-source-6.12.tar.xz

# libbpf 1.8: linux-source-7.2 from Debian sid, private apt state here.
ORACLE18_PKG    := linux-source-7.2
ORACLE_SID      := $(ORACLE_DIR)/apt-sid
ORACLE_SID_LIST := deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
ORACLE_SID_APT  := -o Dir::Etc::sourcelist=$(ORACLE_SID)/sources.list -o Dir::Etc::sourceparts=/dev/null \
		   -o Dir::State::Lists=$(ORACLE_SID)/lists -o Dir::State::status=$(ORACLE_SID)/status \
		   -o Dir::Cache=$(ORACLE_SID)/cache -o APT::Sandbox::User=root -o Acquire::Languages=none

.PHONY: oracle oracle-1.5 oracle-1.8 oracle-deps oracle-sid-src oracle-sid-refresh oracle-build oracle-clean

oracle: oracle-1.5 oracle-1.8

# Step 1 (always): packages (and for 1.8 the sid source). Step 2: everything
# else, in a sub-make that knows the source package version.
oracle-1.5: oracle-deps
	@v=$$(dpkg-query -W -f='$${Version}' $(ORACLE15_PKG) 2>/dev/null | tr '~:' '__'); \
	test -n "$$v" || { echo "oracle: cannot read the version of $(ORACLE15_PKG)" >&2; exit 1; }; \
	$(MAKE) --no-print-directory oracle-build ORACLE_VER="$$v" ORACLE_LIBBPF=1.5.0 \
	  ORACLE_TAR=$(ORACLE15_TAR) ORACLE_TOPDIR=$(ORACLE15_PKG) ORACLE_OUT=$(ORACLE_BIN)

oracle-1.8: oracle-deps oracle-sid-src
	@v=$$(cat $(ORACLE_SID)/version); \
	$(MAKE) --no-print-directory oracle-build ORACLE_VER="$$v" ORACLE_LIBBPF=1.8.0 \
	  ORACLE_TAR=$(ORACLE_SID)/pkg-$$v/usr/src/$(ORACLE18_PKG).tar.xz ORACLE_TOPDIR=$(ORACLE18_PKG) \
	  ORACLE_OUT=$(ORACLE18_BIN)

oracle-deps:
	$(call apt_need,oracle,$(ORACLE_APT_PKGS))
	@test -f $(ORACLE15_TAR) || { echo "oracle: $(ORACLE15_TAR) missing after installing $(ORACLE15_PKG)" >&2; exit 1; }

# The sid .deb: update a private package list, download, check the SHA256
# apt-cache shows, extract into a temp dir renamed into place; the version
# file is written last. Nothing is done once a version is extracted.
oracle-sid-src:
	@set -e; d=$(ORACLE_SID); \
	if v=$$(cat $$d/version 2>/dev/null) && [ -f "$$d/pkg-$$v/.complete" ]; then exit 0; fi; \
	mkdir -p $$d/lists/partial $$d/cache/archives/partial; \
	echo '$(ORACLE_SID_LIST)' > $$d/sources.list; : > $$d/status; \
	echo "oracle: apt-get update (Debian sid; private apt state in $$d)"; \
	apt-get $(ORACLE_SID_APT) -qq update; \
	info=$$(apt-cache $(ORACLE_SID_APT) show --no-all-versions $(ORACLE18_PKG)); \
	v=$$(printf '%s\n' "$$info" | awk '$$1=="Version:"{print $$2; exit}'); \
	sha=$$(printf '%s\n' "$$info" | awk '$$1=="SHA256:"{print $$2; exit}'); \
	[ -n "$$v" ] && [ -n "$$sha" ] || { echo "oracle: no $(ORACLE18_PKG) in Debian sid" >&2; exit 1; }; \
	case "$$v" in *[!A-Za-z0-9.+-]*) echo "oracle: unexpected version '$$v' of $(ORACLE18_PKG)" >&2; exit 1;; esac; \
	rm -rf $$d/debs $$d/.pkg-tmp.*; mkdir -p $$d/debs; \
	echo "oracle: downloading $(ORACLE18_PKG) $$v"; \
	TIMEFORMAT="oracle: downloaded in %R s" && time \
	(cd $$d/debs && apt-get $(ORACLE_SID_APT) -qq download $(ORACLE18_PKG)=$$v); \
	deb=$$(ls $$d/debs/$(ORACLE18_PKG)_*.deb); \
	echo "$$sha  $$deb" | sha256sum -c --quiet - || \
	  { echo "oracle: FATAL: $$deb does not have the SHA256 apt-cache shows ($$sha)" >&2; rm -f "$$deb"; exit 1; }; \
	echo "oracle: $$(basename $$deb): sha256 $$sha ok"; \
	tmp=$$(mktemp -d $$d/.pkg-tmp.XXXXXX); \
	dpkg-deb -x "$$deb" "$$tmp"; \
	test -f "$$tmp/usr/src/$(ORACLE18_PKG).tar.xz" || \
	  { echo "oracle: $$deb has no usr/src/$(ORACLE18_PKG).tar.xz" >&2; rm -rf "$$tmp"; exit 1; }; \
	touch "$$tmp/.complete"; rm -rf "$$d/pkg-$$v"; mv -T "$$tmp" "$$d/pkg-$$v"; \
	echo "$$v" > $$d/version

oracle-sid-refresh:
	rm -f $(ORACLE_SID)/version
	$(MAKE) --no-print-directory oracle-1.8

ifdef ORACLE_VER
ORACLE_SRC   := $(ORACLE_DIR)/src-$(ORACLE_VER)
ORACLE_BUILD := $(ORACLE_DIR)/build-$(ORACLE_VER)
ORACLE_LIB   := $(ORACLE_BUILD)/libbpf.a
ORACLE_WANT  := $(basename $(ORACLE_LIBBPF))

oracle-build: $(ORACLE_OUT)
	@echo "oracle: $(ORACLE_OUT) ($$($(ORACLE_OUT) version))"

# Tree extraction: only the members libbpf needs, into a temp dir renamed
# into place once complete; the libbpf version is checked before the rename.
$(ORACLE_SRC)/.complete:
	@mkdir -p $(ORACLE_DIR)
	@rm -rf $(ORACLE_DIR)/.src-tmp.*
	@tmp=$$(mktemp -d $(ORACLE_DIR)/.src-tmp.XXXXXX) && chmod 755 "$$tmp" && \
	echo "oracle: extracting libbpf sources of $(ORACLE_TOPDIR) $(ORACLE_VER)" && \
	TIMEFORMAT="oracle: extracted in %R s" && time \
	tar -xJf $(ORACLE_TAR) -C "$$tmp" --strip-components=1 \
	  $(addprefix $(ORACLE_TOPDIR)/,$(ORACLE_MEMBERS)) && \
	h="$$tmp/tools/lib/bpf/libbpf_version.h" && \
	maj=$$(awk '$$2=="LIBBPF_MAJOR_VERSION"{print $$3}' "$$h") && \
	min=$$(awk '$$2=="LIBBPF_MINOR_VERSION"{print $$3}' "$$h") && \
	last=$$(grep -o '^LIBBPF_[0-9.]*' "$$tmp/tools/lib/bpf/libbpf.map" | tail -1) && \
	if [ "$$maj.$$min" != $(ORACLE_WANT) ] || [ "$$last" != LIBBPF_$(ORACLE_LIBBPF) ]; then \
	  echo "oracle: FATAL: expected libbpf $(ORACLE_LIBBPF), $(ORACLE_TAR) has $$maj.$$min ($$last in libbpf.map)" >&2; \
	  rm -rf "$$tmp"; exit 1; \
	fi && \
	echo "oracle: libbpf $$maj.$$min.0 ($$last)" && \
	touch "$$tmp/.complete" && rm -rf $(ORACLE_SRC) && mv -T "$$tmp" $(ORACLE_SRC)

# libbpf.a; the stamp is written only after a successful build.
$(ORACLE_BUILD)/.built: $(ORACLE_SRC)/.complete
	@mkdir -p $(ORACLE_BUILD)
	@echo "oracle: building libbpf.a ($(ORACLE_LIBBPF))"
	@TIMEFORMAT="oracle: libbpf.a built in %R s" && time \
	MAKEFLAGS= $(MAKE) --no-print-directory -s -C $(ORACLE_SRC)/tools/lib/bpf -j$$(nproc) \
	  OUTPUT=$(ORACLE_BUILD)/ $(ORACLE_LIB)
	@touch $@

# Records the source version the driver was linked against, so that a
# switch to another one (either way) relinks it.
$(ORACLE_OUT).srcversion: FORCE_ORACLE_VERSION
	@mkdir -p $(ORACLE_DIR)
	@[ "$$(cat $@ 2>/dev/null)" = "$(ORACLE_VER)" ] || echo "$(ORACLE_VER)" > $@

$(ORACLE_OUT): $(ORACLE_DRIVER) $(ORACLE_DRV_HDRS) $(ORACLE_BUILD)/.built $(ORACLE_OUT).srcversion
	@echo "oracle: compiling $(ORACLE_DRIVER) against libbpf $(ORACLE_LIBBPF)"
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
