# Lenta. The two commands of the README:
#   make run    the service, embedded (no servers), on http://127.0.0.1:8080
#   make test   the whole suite: starts real Kafka + Cassandra, runs every test, stops them
# Real Apache Kafka and Cassandra: see docs/real-services.md.
# CASSANDRA_NODES=3 make services-up starts a 3-node Cassandra on 127.0.0.1-3.
SERVICES := bash scripts/services.sh

.PHONY: run test test-embedded services-up services-down services-status

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
