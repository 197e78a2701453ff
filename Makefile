# authserver — build and test. `make test` is the one command CI runs (via
# .ci/run): it installs what the tests need (scripts/install-test-deps.sh),
# then runs every test against real services (PostgreSQL, slapd, registry
# v3.1.2 and 2.8.2, crane, oras, regctl, skopeo, nginx), which the tests start
# themselves. Nothing skips: a service that cannot start fails the run.
# `make unit` is the fast tier: every test that needs no outside service.
# Tests that need PostgreSQL, slapd, a registry or a client live in files
# tagged `//go:build integration`; `make test` sets the tag, `make unit`
# does not.

GO        ?= go
TOOLS     ?= $(HOME)/.cache/authserver-tools
export AUTHSERVER_TOOLS := $(TOOLS)
export PATH := $(TOOLS)/bin:$(PATH)
export CGO_ENABLED ?= 0
# Fuzz budgets are counts of inputs, not durations: a duration races Go 1.26's
# fuzz coordinator at its deadline (golang/go#75804: a spurious "context
# deadline exceeded" failure with no crasher). FUZZN scales all three.
FUZZN     ?= 1
VERSION   ?= $(shell cat VERSION)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build release image image-context test test-deps unit test-all test-harborclient test-k8s fuzz vet fmt-check run clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/authserver ./cmd/authserver

## release: static linux/amd64 and linux/arm64 binaries and SHA256SUMS in
## dist/ (reproducible: scripts/release.sh).
release:
	bash scripts/release.sh dist

## image: the OCI image localhost/authserver:$(VERSION) (FROM scratch, built
## with buildah from the Dockerfile, nothing pulled), also written to
## dist/authserver-$(VERSION).oci.tar. IMAGE names it otherwise.
IMAGE     ?= localhost/authserver:$(VERSION)
ARCH      ?= $(shell $(GO) env GOARCH)
BUILDAH   ?= buildah --storage-driver vfs
image-context:
	rm -rf dist/image && mkdir -p dist/image/state/data dist/image/state/public
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) $(GO) build -trimpath -buildvcs=false \
	  -ldflags '-s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)' -o dist/image/authserver ./cmd/authserver
	cp Dockerfile dist/image/Dockerfile

image: image-context
	$(BUILDAH) bud --pull=never --layers=false --format docker --arch $(ARCH) --build-arg VERSION=$(VERSION) \
	  -t $(IMAGE) -f dist/image/Dockerfile dist/image
	rm -f dist/authserver-$(VERSION).oci.tar
	$(BUILDAH) push $(IMAGE) oci-archive:dist/authserver-$(VERSION).oci.tar

## run: start authserver on its embedded default (SQLite + generated key in ./data).
run:
	$(GO) run ./cmd/authserver serve

test: test-deps fmt-check vet test-all test-harborclient test-k8s fuzz

test-deps:
	bash scripts/install-test-deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	cd e2e/oidcprovider && $(GO) vet ./...

# Every test, the integration tier included (what `make test` runs).
test-all:
	$(GO) test -count=1 -tags integration -timeout 30m ./...

# e2e/harborclient is a nested module (Harbor's own Go client against an
# authserver process), so ./... above does not reach it.
test-harborclient:
	cd e2e/harborclient && $(GO) vet -tags integration ./... && $(GO) test -count=1 -tags integration ./...

# deploy/k8stest is a nested module (k8s.io/api decodes the manifests and
# the Helm chart's output strictly), so k8s.io stays out of authserver's.
test-k8s:
	cd deploy/k8stest && $(GO) vet -tags integration ./... && $(GO) test -count=1 -tags integration ./...

# The tests that need no outside service (no PostgreSQL, slapd, registry
# or client): well under a minute.
unit:
	$(GO) test -count=1 -timeout 5m ./...

# Each fuzz target runs a number of inputs (about 5 s on this machine, the
# rates differ by target) on top of its committed seed corpus
# (testdata/fuzz/<FuzzName>/). `go test -fuzz` takes one target at a time.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseScopes$$' -fuzztime $$((150000 * $(FUZZN)))x ./internal/authz
	$(GO) test -run '^$$' -fuzz '^FuzzParseBasic$$' -fuzztime $$((15000 * $(FUZZN)))x ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzParsePost$$' -fuzztime $$((10000 * $(FUZZN)))x ./internal/app

clean:
	rm -rf bin dist
