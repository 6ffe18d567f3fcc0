#!/usr/bin/env bash
# The whole test suite, real servers included: fetches and starts Apache
# Kafka and Apache Cassandra (scripts/services.sh), runs every Go test
# against them and against the embedded store, and stops the servers.
# Then every fuzz target for a short time, then the fault suite
# (scripts/faults.sh, its own servers). If the servers cannot start, it
# fails and says why: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# kcat is the independent Kafka client of the integration tests.
if ! command -v kcat >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing kcat (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null
  else
    echo "kcat is missing and cannot be installed here; install it (apt-get install kcat)" >&2
    exit 1
  fi
fi

# Debian's chromium drives the browser test (e2e/browser_test.go).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and cannot be installed here; install it (apt-get install chromium)" >&2
    exit 1
  fi
fi

started_here=0
if ! bash scripts/services.sh status >/dev/null 2>&1; then
  say "starting Kafka and Cassandra"
  t0=$(date +%s)
  # fetch is instant and offline once the jars are cached (.cache/services)
  if ! bash scripts/services.sh fetch || ! bash scripts/services.sh start; then
    echo "test: the real Kafka and Cassandra could not start; see the log above" >&2
    exit 1
  fi
  echo "servers ready in $(( $(date +%s) - t0 )) s"
  started_here=1
fi
cleanup() {
  if [ "$started_here" = 1 ] && [ -z "${LENTA_KEEP_SERVICES:-}" ]; then
    say "stopping Kafka and Cassandra"
    bash scripts/services.sh stop || true
  fi
}
trap cleanup EXIT

export LENTA_TEST_KAFKA=127.0.0.1:${KAFKA_PORT:-9092}
export LENTA_TEST_CASSANDRA=127.0.0.1:${CASSANDRA_PORT:-9042}

say "gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

say "go test (embedded and real Kafka + Cassandra)"
t0=$(date +%s)
go test -count=1 -timeout 40m ./...
# The embedded store again with its invariant checks on (docs/reliability.md).
go test -count=1 -tags invariants ./invariants/ ./store/pebble/
echo "suite ran in $(( $(date +%s) - t0 )) s"

# The main suite's servers are done: free the two cores for what follows.
cleanup
started_here=0

say "fuzz targets (FUZZTIME=${FUZZTIME:-10s} each)"
FUZZTIME=${FUZZTIME:-10s} bash scripts/fuzz.sh

# The fault suite runs its own Kafka and Cassandra (a 1-node, then a
# 3-node ring) on other ports and stops them; LENTA_SKIP_FAULTS=1 skips it.
if [ -z "${LENTA_SKIP_FAULTS:-}" ]; then
  say "fault suite (docs/reliability.md)"
  bash scripts/faults.sh
else
  say "fault suite skipped (LENTA_SKIP_FAULTS is set)"
fi
