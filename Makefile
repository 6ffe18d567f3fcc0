# Real Apache Kafka and Cassandra for tests and benchmarks: see docs/real-services.md.
# CASSANDRA_NODES=3 make services-up starts a 3-node Cassandra on 127.0.0.1-3.
SERVICES := bash scripts/services.sh

.PHONY: services-up services-down services-status

services-up:
	$(SERVICES) fetch
	$(SERVICES) start

services-down:
	$(SERVICES) stop

services-status:
	$(SERVICES) status
