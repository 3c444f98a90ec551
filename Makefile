# sluice — build, test, bench, generate.
GO       ?= go
BIN      := bin/sluice
PKG      := github.com/sluicehq/sluice
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(PKG)/internal/version.Version=$(VERSION) \
	-X $(PKG)/internal/version.Commit=$(shell git rev-parse HEAD 2>/dev/null) \
	-X $(PKG)/internal/version.Date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all build run test test-race lint fmt-check vet bench bench-vs-ref bench-more-vs-ref generate clean reference peers

# The reference binaries the tests compare with, installed once through the
# Go module proxy into a cache directory (internal/testutil/refbin finds
# them there; override the place with SLUICE_REF_DIR).
NATS_SERVER_VERSION := v2.15.2
NATSCLI_VERSION     := v0.5.1
REF_DIR             ?= $(or $(SLUICE_REF_DIR),$(XDG_CACHE_HOME),$(HOME)/.cache)
REF_NATS_SERVER     := $(if $(SLUICE_REF_DIR),$(REF_DIR),$(REF_DIR)/sluice/reference)/nats-server-$(NATS_SERVER_VERSION)/nats-server
REF_NATS            := $(if $(SLUICE_REF_DIR),$(REF_DIR),$(REF_DIR)/sluice/reference)/natscli-$(NATSCLI_VERSION)/nats

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sluice

run: build
	$(BIN) serve

# The whole suite: formatting, vet, every test (those comparing with the
# reference binaries included), and the race detector on the broker packages.
test: fmt-check vet reference peers
	SLUICE_REF_NATS_SERVER=$(REF_NATS_SERVER) SLUICE_REF_NATS=$(REF_NATS) $(GO) test -count=1 ./...
	SLUICE_REF_NATS_SERVER=$(REF_NATS_SERVER) SLUICE_REF_NATS=$(REF_NATS) $(GO) test -count=1 -race ./internal/server/...

reference: $(REF_NATS_SERVER) $(REF_NATS)

$(REF_NATS_SERVER):
	GOBIN=$(dir $@) GOFLAGS= $(GO) install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)

$(REF_NATS):
	GOBIN=$(dir $@) GOFLAGS= $(GO) install github.com/nats-io/natscli/nats@$(NATSCLI_VERSION)

# Reference binaries the tests compare with, installed into ~/peers/bin
# once: nsc v2.15.0 for the `sluice auth` interoperability tests.
peers:
	GO=$(GO) scripts/install-nsc

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: fmt-check vet

# Micro-benchmarks (parser, subscription index) and the end-to-end
# loopback pub/sub benchmark.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/server/protocol/ ./internal/server/subject/
	$(GO) test -run '^$$' -bench 'BenchmarkE2E' -benchtime 2000000x ./internal/server/

# Side by side with nats-server v2.15.2, driven by natscli's `nats bench`:
# core, JetStream, KV, object store and cluster throughput (scripts/bench-vs-ref).
bench-vs-ref: build
	scripts/bench-vs-ref $(BIN)

# Request/reply latency and idle-connection memory, side by side with
# nats-server v2.15.2 (natscli's `nats bench service` and scripts/idleconns).
bench-more-vs-ref: build
	scripts/bench-more-vs-ref $(BIN)

generate:
	$(GO) run ./internal/cli/docgen

clean:
	rm -rf bin dist

# A real browser: headless Chromium runs a page using nats.ws (installed
# from npm on first use) against `sluice serve` over ws:// and wss://.
.PHONY: test-browser
test-browser: build
	SLUICE_BIN=$(CURDIR)/$(BIN) $(GO) test -tags browser -count=1 -run TestBrowser ./internal/server/websocket/

# WebSocket throughput (nats.go over ws://, 128 B, compression on and off)
# and memory per idle WebSocket connection, side by side with nats-server.
.PHONY: bench-ws-vs-ref
bench-ws-vs-ref: build
	$(GO) run ./scripts/wsbench -sluice $(BIN)
