# Backup Manager. `make run` and `make test` set up everything they need on a fresh machine.
SWIFT      ?= swift
DATA_DIR   ?= data
PORT       ?= 8080
HOST       ?= 127.0.0.1
# Debian packages the build, the tests and the tools need.
APT_PACKAGES := libsqlite3-dev zlib1g-dev libssl-dev sqlite3 tar coreutils time curl

SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)

.PHONY: setup build release test lint format run bench clean

## setup: install missing system packages (only when missing)
setup:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	else \
	  echo "setup: system packages present"; \
	fi

## build: debug build of everything, tests included
build: setup
	$(SWIFT) build --build-tests

## release: optimised build of the two executables
release: setup
	$(SWIFT) build -c release

## test: build and run every test
test: build
	$(SWIFT) test --skip-build

## lint: check formatting with swift format
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Modules Apps Tests

## format: rewrite the sources in the house format
format:
	$(SWIFT) format --in-place --recursive Package.swift Modules Apps Tests

## run: build release, seed a demo database if there is none, start the server
run: release
	@scripts/seed-demo.sh "$(DATA_DIR)/app.sqlite"
	@echo "backup-api: http://$(HOST):$(PORT)/  (API token: BACKUP_API_TOKEN, else $(DATA_DIR)/api-token, created on first start)"
	$$($(SWIFT) build -c release --show-bin-path)/backup-api --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# Benchmarks (never part of `make test`): sizes in MB of the generated databases, runs per figure.
BENCH_SIZE_MB      ?= 200
BENCH_SMALL_MB     ?= 20
BENCH_RUNS         ?= 3
BENCH_WRITER_RATE  ?= 200
BENCH_CLI_TIMEOUT  ?= 20
BENCH_API_REQUESTS ?= 500
BENCH_API_RATE     ?= 50
BENCH_WORK         ?= bench-work
BENCH_PACKAGES     := pigz zstd
BENCH_ARGS = --size-mb $(BENCH_SIZE_MB) --small-mb $(BENCH_SMALL_MB) --runs $(BENCH_RUNS) \
	--writer-rate $(BENCH_WRITER_RATE) --cli-timeout $(BENCH_CLI_TIMEOUT) \
	--api-requests $(BENCH_API_REQUESTS) --api-rate $(BENCH_API_RATE)

## bench: build release, install the reference tools, run every benchmark, write docs/BENCHMARKS.md
bench: APT_PACKAGES += $(BENCH_PACKAGES)
bench: release
	python3 scripts/bench/bench.py --bin "$$($(SWIFT) build -c release --show-bin-path)" \
	  --work $(BENCH_WORK) $(BENCH_ARGS) \
	  --command "make bench BENCH_SIZE_MB=$(BENCH_SIZE_MB) BENCH_RUNS=$(BENCH_RUNS)"

clean:
	rm -rf .build $(BENCH_WORK)
