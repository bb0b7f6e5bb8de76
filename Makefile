# lunbench — see README.md.
GO      ?= go
BIN     := bin/lunbench
PKGS    := ./...

.PHONY: all build test run bench bench-go lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/lunbench

# The README's test command: vet, then every test. Tests that need root or a
# Debian package skip with the reason when it is missing. Packages run one at a
# time (-p 1): the iostat agreement test compares rates over the same seconds
# and must not share the two cores with another package's I/O load. The SAN
# lab's guest tests (scenarios/lab/labtest) take 13 minutes of the 30 at load
# 16-20 on 2 cores, 20 at load 30.
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -p 1 -timeout 30m $(PKGS)

# The built-in quick-start scenario against a sparse file: no SAN, no root.
run: build
	./$(BIN) run quickstart

# Hot-path micro-benchmarks, then lunbench against fio side by side.
bench: build bench-go
	sh scenarios/lab/bench.sh ./$(BIN)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
