# Orderly's house rules, runnable. `make help` lists the targets.

GO        ?= go
LINT      := $(GO) tool -modfile=tools/go.mod golangci-lint
PKGS      := ./...
BENCHTIME ?= 2s

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/orderly
	$(GO) build -o bin/orderly ./cmd/orderly

.PHONY: run
run: ## start Orderly on SQLite with demo data
	$(GO) run ./cmd/orderly serve --demo

.PHONY: test
test: ## run every test with the race detector (PostgreSQL too when ORDERLY_TEST_POSTGRES_URL is set)
	@if [ -z "$$ORDERLY_TEST_POSTGRES_URL" ]; then \
		echo "note: ORDERLY_TEST_POSTGRES_URL is unset, so PostgreSQL tests are skipped;"; \
		echo "      set it (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them."; \
	fi
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

.PHONY: test-long
test-long: ## crash-safety (SIGKILL ×10) and two-node tests, a few minutes (PostgreSQL parts need ORDERLY_TEST_POSTGRES_URL)
	$(GO) test -tags long -run 'TestCrashSafety|TestTwoNodes' -count=1 -timeout 15m -v ./cmd/orderly/

.PHONY: lint
lint: ## gofmt, go vet and golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags long ./cmd/orderly/
	$(LINT) run $(PKGS)

.PHONY: bench
bench: ## run the Go benchmarks (both backends when ORDERLY_TEST_POSTGRES_URL is set)
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PKGS)

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test -run='^$$' -fuzz=FuzzDecodeOrderRequest -fuzztime=$${FUZZTIME:-30s} ./httpapi/
	$(GO) test -run='^$$' -fuzz=FuzzParseAmount -fuzztime=$${FUZZTIME:-30s} .
	$(GO) test -run='^$$' -fuzz=FuzzParseRuleSet -fuzztime=$${FUZZTIME:-30s} ./routing/
	$(GO) test -run='^$$' -fuzz=FuzzParseEvent -fuzztime=$${FUZZTIME:-30s} ./carrier/easypost/
	$(GO) test -run='^$$' -fuzz=FuzzSafeNext -fuzztime=$${FUZZTIME:-30s} ./web/
	$(GO) test -run='^$$' -fuzz=FuzzCSV -fuzztime=$${FUZZTIME:-30s} ./orderimport/
	$(GO) test -run='^$$' -fuzz=FuzzJSONL -fuzztime=$${FUZZTIME:-30s} ./orderimport/
	$(GO) test -run='^$$' -fuzz=FuzzAppendAvailability -fuzztime=$${FUZZTIME:-30s} ./httpapi/
	$(GO) test -run='^$$' -fuzz=FuzzScanLookup -fuzztime=$${FUZZTIME:-30s} ./internal/loadgen/
	$(GO) test -run='^$$' -fuzz=FuzzOpen -fuzztime=$${FUZZTIME:-30s} ./secret/
	$(GO) test -run='^$$' -fuzz=FuzzNumbered -fuzztime=$${FUZZTIME:-30s} ./store/sqlstore/
	for p in shopify woocommerce amazon; do \
		$(GO) test -run='^$$' -fuzz=FuzzParseOrder -fuzztime=$${FUZZTIME:-30s} ./connector/$$p/ || exit 1; \
	done

.PHONY: verify
verify: lint test test-long ## everything CI checks

.PHONY: clean
clean: ## remove build output
	rm -rf bin
