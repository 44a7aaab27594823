# fileup: common tasks. Only Go (and curl, for the MinIO readiness probe)
# is needed; everything else is fetched through the Go module proxy.

GO ?= go
PKGS := ./...

.PHONY: all generate build test test-short vet lint fmt drift bench clean

all: build

## generate: regenerate gen/ from api/ (oapi-codegen version pinned in go.mod)
generate:
	$(GO) generate ./...

## build: compile everything
build:
	$(GO) build $(PKGS)

## test: the full suite, S3 tests against a local MinIO built and started by scripts/minio.sh
test:
	scripts/minio.sh $(GO) test -count=1 $(PKGS)

## test-short: the suite without MinIO (S3 tests skip) and without regeneration
test-short:
	$(GO) test -short $(PKGS)

## vet / lint: go vet and gofmt (generated code included)
vet:
	$(GO) vet $(PKGS)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^gen/.*\.gen\.go$$')

## drift: fail if gen/ is not what api/ generates
drift: generate
	@git diff --exit-code -- gen/ || { echo "gen/ drifted from api/: commit the output of 'make generate'"; exit 1; }
