# Real test data: Debian kernel packages from vmimages/catalog.tsv, fetched
# and extracted into $(CACHE) (debs/, kernels/, btf/) by cmd/fetchkernels.
# apt runs with btfrecon's private configuration under $(CACHE)/apt (its own
# lists for bookworm, trixie and sid, amd64 and arm64): /etc/apt is never
# changed and no architecture is added to dpkg; a warm cache needs no apt.
# TESTDATA_FLAGS adds fetchkernels flags, e.g. TESTDATA_FLAGS=-releases=all,
# or -releases=6.12.117+deb13,7.2.13+deb14 (resolved from the archive).
.PHONY: testdata testdata-headers testdata-arm64 testdata-sid testdata-trixie kernels-check

FETCHKERNELS = $(GO) run ./cmd/fetchkernels

# amd64 6.12.107 and 6.12.117 images; `make testdata HEADERS=1` adds headers.
testdata:
	$(FETCHKERNELS) -arch amd64 $(if $(HEADERS),-headers) $(TESTDATA_FLAGS)

# amd64 images plus linux-headers, -common and linux-kbuild (vmlinux ELF, kbuild tree).
testdata-headers:
	$(FETCHKERNELS) -arch amd64 -headers $(TESTDATA_FLAGS)

testdata-arm64:
	$(FETCHKERNELS) -arch arm64 $(TESTDATA_FLAGS)

# Debian sid's Linux 7.2.13 (amd64, with headers), resolved from the archive: the 7.2
# facts harness/kernels pins (TestSid72) and the 7.2 VM scenarios.
testdata-sid:
	$(FETCHKERNELS) -arch amd64 -headers -releases 7.2.13+deb14 $(TESTDATA_FLAGS)

# Debian trixie's 6.12.107+deb13 (amd64, with headers): the trixie profile
# (TestProfileForRealConfigs, pahole 1.30), its module build spec
# (TestSpecForReal) and the real-distiller testdata of harness/recon.
testdata-trixie:
	$(FETCHKERNELS) -arch amd64 -headers -releases 6.12.107+deb13 $(TESTDATA_FLAGS)

# One real resolution from the Debian archive (network): releases the catalog
# does not pin (bookworm 6.12.111, sid 7.2.13+deb14) are looked up afresh,
# fetched into $(CACHE) and opened (vmlinux BTF decoded, modules listed), and
# a missing one must be refused with its nearest releases. KERNELS_CHECK lists
# others: KERNELS_CHECK=6.12.117+deb13/amd64,7.2.13+deb14/arm64.
kernels-check:
	BTFRECON_KERNELS_CHECK=$(or $(KERNELS_CHECK),1) $(GO) test -count=1 -v -run '^TestRealResolve$$' ./harness/kernels
