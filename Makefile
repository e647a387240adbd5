# btfrecon: see README.md. Everything fetched or built lives under $(CACHE).
SHELL := /bin/bash
GO ?= go
CACHE ?= $(or $(BTFRECON_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/btfrecon)
export BTFRECON_CACHE := $(CACHE)

.PHONY: all build vet test test-short
all: build

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags lean ./cmd/btfrecon
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# The fast tier: no VM, no network; tests needing real data skip without it.
test-short:
	$(GO) test ./...

# apt_need,WHO,PACKAGES installs the Debian packages that are missing (as
# root; apt-get update only when the plain install fails). Every fragment's
# *-deps target calls it.
define apt_need
	@missing=; for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "$(1): installing$$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "$(1): need root to apt-get install$$missing" >&2; exit 1; }; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && apt-get install -y --no-install-recommends $$missing; } || exit 1; \
	fi
endef

# Fragments per concern (testdata, oracle, vm, kernel patch) live in mk/.
include $(sort $(wildcard mk/*.mk))

# --- The README's two commands -------------------------------------------
# demo: the main job on the default kernels (Debian 6.12.107 -> 6.12.117):
# the VM scenario over every module of the package (a schedule of boots,
# about 3 minutes under TCG on 2 cores), then the model's report over the
# whole distro.
# test: every tier CI runs: real data, the libbpf oracle, go test (with the
# real-data and oracle tests required, the whole distro corpus), and one
# real amd64 VM scenario, the three-way differential (Go model, our C
# core, libbpf) and the kernel patch check (TEST_EXTRA; TEST_EXTRA= skips them).
.PHONY: demo test deps bench
TEST_EXTRA ?= vm-test threeway patch-check

deps:
	$(GO) mod download

# btfrecon is the lean build (dump, check, distill, relocate, inject in a
# binary half the size); it runs the harness verbs in btfrecon-harness,
# the full build beside it. go build ./cmd/btfrecon is one binary with all.
btfrecon: deps
	$(GO) build -buildvcs=auto -o btfrecon-harness ./cmd/btfrecon
	$(GO) build -buildvcs=auto -tags lean -o btfrecon ./cmd/btfrecon

demo: btfrecon testdata vm-deps
	./btfrecon vm run --build 6.12.107 --run 6.12.117 --modules all
	./btfrecon compat --build 6.12.107 --run 6.12.117

test: deps testdata-headers testdata-arm64 testdata-sid testdata-trixie oracle
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet -tags lean ./cmd/btfrecon
	BTFRECON_REQUIRE_DATA=1 BTFRECON_CORPUS=all $(GO) test -count=1 ./...
	$(GO) test -count=1 -tags lean ./cmd/btfrecon
	$(if $(TEST_EXTRA),$(MAKE) $(TEST_EXTRA))

# Model vs libbpf on the same real inputs, one run, ratios printed: whole
# processes side by side (the btfrecon binary and the oracle driver: wall,
# CPU, peak RSS; 21 interleaved runs a row), then in-process.
bench: testdata oracle btfrecon
	GO=$(GO) $(GO) run ./cmd/bench -n 30 -procs 21 -btfrecon ./btfrecon
	$(GO) test -run '^$$' -bench . -benchtime 1s ./harness/btf ./harness/recon ./harness/kmod
