# A kernel the user built, given by path (harness/kernels OpenPath):
#
#   make vm-localkernel  6.12.117's Debian packages laid out as a build
#                        (amd64: a build tree, modules uncompressed in it with
#                        modules.order; arm64: vmlinux, Image, lib/modules/
#                        as modules_install leaves it); `vm run --build
#                        6.12.107 --run DIR --modules all-loadable` must give
#                        the same rows, verdicts and totals as --run 6.12.117
#                        (four boots). LOCAL_ARCHES=amd64 for one arch,
#                        LOCAL_MODULES=nls_utf8,vfat for a short check; the
#                        trees are kept in $(CACHE)/localkernel/ for reruns.

LOCAL_ARCHES  ?= amd64,arm64
LOCAL_MODULES ?= all-loadable

.PHONY: vm-localkernel
vm-localkernel: vm-deps vm-deps-arm64 testdata testdata-arm64
	BTFRECON_VM=1 BTFRECON_REQUIRE_DATA=1 BTFRECON_LOCAL_ARCHES=$(LOCAL_ARCHES) BTFRECON_LOCAL_MODULES=$(LOCAL_MODULES) \
	  BTFRECON_LOCAL_TREES=$(CACHE)/localkernel \
	  $(GO) test -count=1 -timeout 150m -run '^TestVMLocalKernel$$' -v ./harness/kernels
