#!/usr/bin/env bash
# The fault-injection suite (faults/, docs/reliability.md): starts its own
# Apache Kafka and Apache Cassandra (a 1-node, then a 3-node ring) with
# scripts/services.sh under .cache/faults-run on ports 19092/19042 (and, for
# TestKafkaClusterBrokerLost, a 3-broker KRaft cluster on 19192-19197), breaks
# them on purpose while real feedd processes work, compares every user's
# feed with the state recomputed from the event log, and stops them.
#
#   FAULTS_CASES=<regexp>   which cases to run (default: all)
#   FAULTS_KEEP=1           leave the suite's servers running afterwards
# Results: .artifacts/faults/results/*.json, process logs in .artifacts/faults/<case>/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh fetch
mkdir -p .artifacts/faults
rm -rf .artifacts/faults/results
t0=$(date +%s)
status=0
LENTA_FAULTS=1 go test -count=1 -v -timeout 75m -run "${FAULTS_CASES:-.}" ./faults/ 2>&1 |
  tee .artifacts/faults/test.log || status=$?
echo "fault suite ran in $(( $(date +%s) - t0 )) s (log: .artifacts/faults/test.log)"
exit "$status"
