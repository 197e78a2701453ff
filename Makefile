# authserver — build and test. `make test` is the one command CI runs (via
# .ci/run): it installs what the tests need (scripts/install-test-deps.sh),
# then runs every test against real services (PostgreSQL, slapd, registry
# v3.1.2 and 2.8.2, crane, oras, regctl, skopeo), which the tests start
# themselves. Nothing skips: a service that cannot start fails the run.

GO        ?= go
TOOLS     ?= $(HOME)/.cache/authserver-tools
export AUTHSERVER_TOOLS := $(TOOLS)
export PATH := $(TOOLS)/bin:$(PATH)
export CGO_ENABLED ?= 0
FUZZTIME  ?= 5s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-deps unit fuzz vet fmt-check run clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/authserver ./cmd/authserver

## run: start authserver on its embedded default (SQLite + generated key in ./data).
run:
	$(GO) run ./cmd/authserver serve

test: test-deps fmt-check vet unit fuzz
	cd e2e/harborclient && $(GO) vet ./... && $(GO) test -count=1 ./...

test-deps:
	bash scripts/install-test-deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 30m ./...

# Each fuzz target runs for $(FUZZTIME) on top of its committed seed corpus
# (testdata/fuzz/<FuzzName>/). `go test -fuzz` takes one target at a time.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseScopes$$' -fuzztime $(FUZZTIME) ./internal/authz
	$(GO) test -run '^$$' -fuzz '^FuzzParseBasic$$' -fuzztime $(FUZZTIME) ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzParsePost$$' -fuzztime $(FUZZTIME) ./internal/server

clean:
	rm -rf bin
