# Lenta. The two commands of the README:
#   make run    the service, embedded (no servers), on http://127.0.0.1:8080
#   make test   the whole suite: starts real Kafka + Cassandra, runs every test, stops them
#   make bench  the throughput bench (docs/benchmarks.md): embedded, then real Kafka + Cassandra
# Real Apache Kafka and Cassandra: see docs/real-services.md.
# CASSANDRA_NODES=3 make services-up starts a 3-node Cassandra on 127.0.0.1-3.
SERVICES := bash scripts/services.sh

.PHONY: run test test-embedded services-up services-down services-status bench bench-embedded bench-smoke

run:
	go run ./cmd/feedd --demo

test:
	bash scripts/test.sh

# Only the tests that need no servers (integration tests skip, saying so).
test-embedded:
	go test ./...

services-up:
	$(SERVICES) fetch
	$(SERVICES) start

services-down:
	$(SERVICES) stop

services-status:
	$(SERVICES) status

# The throughput bench (docs/benchmarks.md). Results in bench-results/<time>/.
# BENCH_FLAGS adds feedbench flags, e.g. BENCH_FLAGS="--users 20000".
BENCH_FLAGS ?=
# On Kafka + Cassandra the graph loads through the API at a few hundred events/s
# on 2 shared cores, so the real run uses a 500-user network.
BENCH_REAL_FLAGS ?= --users 500 --events 5000 --duration 10s --followers 100000

bench-embedded:
	go run ./cmd/feedbench $(BENCH_FLAGS) suite

# Brings the real servers up (idempotent; they are left running), then the
# standard suite embedded and on Kafka + Cassandra (fresh keyspace/topics).
bench: bench-embedded
	$(SERVICES) fetch
	$(SERVICES) start
	go run ./cmd/feedbench --kafka 127.0.0.1:9092 --cassandra 127.0.0.1:9042 $(BENCH_REAL_FLAGS) $(BENCH_FLAGS) suite

# The tiny smoke run that `go test ./...` also runs.
bench-smoke:
	go test -run 'TestSmoke' -count=1 ./cmd/feedbench
