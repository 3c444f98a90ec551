# sluice — build, test, bench, generate.
GO       ?= go
BIN      := bin/sluice
PKG      := github.com/sluicehq/sluice
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(PKG)/internal/version.Version=$(VERSION) \
	-X $(PKG)/internal/version.Commit=$(shell git rev-parse HEAD 2>/dev/null) \
	-X $(PKG)/internal/version.Date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all build run test test-race lint fmt-check vet bench bench-vs-ref bench-more-vs-ref generate clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sluice

run: build
	$(BIN) serve

# The whole suite: formatting, vet, every test, and the race detector on
# the broker packages.
test: fmt-check vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./internal/server/...

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
# core throughput and JetStream publish and get (scripts/bench-vs-ref).
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
