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
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# The fast tier: no VM, no network; tests needing real data skip without it.
test-short:
	$(GO) test ./...

# Fragments per concern (testdata, oracle, vm, kernel patch) live in mk/.
include $(sort $(wildcard mk/*.mk))
