# Lenta. The two commands of the README:
#   make run    the service, embedded (no servers), on http://127.0.0.1:8080
#   make test   the whole suite: starts real Kafka + Cassandra, runs every test, stops them
#   make bench  the throughput bench (docs/benchmarks.md): embedded, then real Kafka + Cassandra
#   make faults the fault suite: its own Kafka + Cassandra killed mid-run, exact state checked
#   make soak   10 minutes of steady load, embedded: fails unless feedd's memory and goroutines stay flat
# Real Apache Kafka and Cassandra: see docs/real-services.md.
# CASSANDRA_NODES=3 make services-up starts a 3-node Cassandra on 127.0.0.1-3.
SERVICES := bash scripts/services.sh

.PHONY: run test test-embedded services-up services-down services-status bench bench-embedded bench-smoke fuzz soak faults

run:
	go run ./cmd/feedd --demo

test:
	bash scripts/test.sh

# Only the tests that need no servers (integration tests skip, saying so).
test-embedded:
	go test ./...

# The fault suite (docs/reliability.md): its own Kafka and Cassandra, broken
# on purpose; every feed compared with the event log. FAULTS_CASES=<regexp>.
faults:
	bash scripts/faults.sh

# Every fuzz target, one at a time, FUZZTIME each (default 10s); stops at
# the first failure and names the failing input under testdata/fuzz/.
fuzz:
	bash scripts/fuzz.sh

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

# The soak (docs/benchmarks.md, "Soak"): the mixed load at a steady paced
# rate for 10 minutes, embedded; exits non-zero unless feedd's heap,
# goroutines and RSS stay flat, with no failed request and the bus lag back
# at 0. SOAK_FLAGS adds feedbench flags, e.g. SOAK_FLAGS="--duration 2m", or
# on the real servers (services-up first):
# SOAK_FLAGS="--kafka 127.0.0.1:9092 --cassandra 127.0.0.1:9042 --users 500 --events 5000"
SOAK_FLAGS ?=

soak:
	go run ./cmd/feedbench soak $(SOAK_FLAGS)
