# Real test data: Debian kernel packages from vmimages/catalog.tsv, fetched
# and extracted into $(CACHE) (debs/, kernels/, btf/) by cmd/fetchkernels.
# Needs root on Debian 12 only to run apt (apt-get update/download, and
# dpkg --add-architecture arm64 for the arm64 set); a warm cache needs neither.
# TESTDATA_FLAGS adds fetchkernels flags, e.g. TESTDATA_FLAGS=-releases=all.
.PHONY: testdata testdata-headers testdata-arm64

FETCHKERNELS = $(GO) run ./cmd/fetchkernels

# amd64 6.12.107 and 6.12.117 images; `make testdata HEADERS=1` adds headers.
testdata:
	$(FETCHKERNELS) -arch amd64 $(if $(HEADERS),-headers) $(TESTDATA_FLAGS)

# amd64 images plus linux-headers, -common and linux-kbuild (vmlinux ELF, kbuild tree).
testdata-headers:
	$(FETCHKERNELS) -arch amd64 -headers $(TESTDATA_FLAGS)

testdata-arm64:
	$(FETCHKERNELS) -arch arm64 $(TESTDATA_FLAGS)
