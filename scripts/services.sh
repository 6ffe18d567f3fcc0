#!/usr/bin/env bash
# Provision and run real Apache Kafka (KRaft, single node) and Apache Cassandra
# (1..N nodes on 127.0.0.x) on this machine, from jars on Maven Central.
# No Docker, no tarballs: see docs/real-services.md.
#
# Usage: scripts/services.sh [--nodes N] COMMAND [ARGS]
#   fetch [kafka|cassandra|all]    download the server jars (cached, offline afterwards)
#   start [kafka|cassandra|all]    write configs, start in background, wait until ready
#   up    [kafka|cassandra|all]    fetch + start
#   stop  [kafka|cassandra|all]    SIGTERM, wait, SIGKILL if needed
#   restart [kafka|cassandra|all]
#   status                         what runs, pids, ports, readiness (exit 1 if anything is down)
#   logs  [kafka|cassandra|cassandra-N] [LINES]   tail of a service's log
#   kill  kafka|cassandra-N [SIGNAL]  send SIGNAL (default KILL) to one server and wait until
#                                  it has exited (fault tests; `start` brings it back)
#   wipe  [kafka|cassandra|all]    stop and delete run data (the jar cache is kept)
#   nodetool [-n N] ARGS...        Cassandra's nodetool against node N (default 1), over JMX
#   env                            print the connection settings as shell variables
#
# Environment (defaults):
#   CASSANDRA_NODES=1   (or --nodes N)  Cassandra node count, node i on 127.0.0.i
#   KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093
#   KAFKA_NODES=1   Kafka broker count; N > 1 is a KRaft cluster of N combined broker+controller
#                   nodes (node i: broker port KAFKA_PORT+i-1, controller port
#                   KAFKA_CONTROLLER_PORT+i-1, default KAFKA_PORT+N), data in kafka-i,
#                   internal topics replicated min(N,3) times, min.insync.replicas=2
#   CASSANDRA_PORT=9042 CASSANDRA_STORAGE_PORT=7000 CASSANDRA_JMX_PORT=7199 (node i: +i-1)
#   KAFKA_HEAP=512m CASSANDRA_HEAP=1G SERVICES_START_TIMEOUT=180 SERVICES_STOP_TIMEOUT=60
#   CASSANDRA_COMMITLOG_SYNC=periodic   periodic (fsync every 10 s: a SIGKILLed node may lose
#                   what it acknowledged since) or group (an acknowledged write is on disk;
#                   fsync every 10 ms, writes wait for it); scripts/faults.sh's single node uses group
#   SERVICES_CACHE=<repo>/.cache   MVN_ARGS="" (extra arguments for mvn)
#   SERVICES_RUN=$SERVICES_CACHE/run   run data, pids and logs (a second, independent set of
#                      servers needs its own SERVICES_RUN and ports: scripts/faults.sh does that)
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.1.2}
CASSANDRA_VERSION=${CASSANDRA_VERSION:-5.0.9}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POMS=$ROOT/scripts/services
CACHE=${SERVICES_CACHE:-$ROOT/.cache}
LIBS=$CACHE/services
RUN=${SERVICES_RUN:-$CACHE/run}

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_NODES=${KAFKA_NODES:-1}
if ((KAFKA_NODES == 1)); then
  KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
else
  KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + KAFKA_NODES))}
fi
KAFKA_HEAP=${KAFKA_HEAP:-512m}
CASSANDRA_PORT=${CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_JMX_PORT=${CASSANDRA_JMX_PORT:-7199}
CASSANDRA_HEAP=${CASSANDRA_HEAP:-1G}
CASSANDRA_NODES=${CASSANDRA_NODES:-1}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-180}
STOP_TIMEOUT=${SERVICES_STOP_TIMEOUT:-60}

say() { printf '%s\n' "services: $*"; }
die() { printf '%s\n' "services: ERROR: $*" >&2; exit 1; }

kafka_home() { echo "$LIBS/kafka-$KAFKA_VERSION"; }
cassandra_home() { echo "$LIBS/cassandra-$CASSANDRA_VERSION"; }

# ---------------------------------------------------------------- fetch

# fetch_one NAME VERSION POM PROPERTY
fetch_one() {
  local name=$1 version=$2 pom=$3 prop=$4
  local home=$LIBS/$name-$version
  local stamp
  stamp="$version $(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f $home/.fetched && $(cat "$home/.fetched") == "$stamp" && -d $home/lib ]]; then
    say "$name $version: jars already in $home/lib"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (install Maven 3)"
  mkdir -p "$home"
  rm -rf "$home/lib.tmp"
  say "$name $version: fetching jars from Maven Central (log: $home/fetch.log)"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  if ! mvn -B -q -f "$pom" ${MVN_ARGS:-} "-D$prop=$version" \
      dependency:copy-dependencies -DincludeScope=runtime \
      "-DoutputDirectory=$home/lib.tmp" >"$home/fetch.log" 2>&1; then
    tail -n 40 "$home/fetch.log" >&2
    die "$name $version: mvn dependency:copy-dependencies failed"
  fi
  rm -rf "${home:?}/lib"
  mv "$home/lib.tmp" "$home/lib"
  echo "$stamp" >"$home/.fetched"
  say "$name $version: $(find "$home/lib" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
}

fetch_kafka() { fetch_one kafka "$KAFKA_VERSION" "$POMS/kafka-pom.xml" kafka.version; }
fetch_cassandra() { fetch_one cassandra "$CASSANDRA_VERSION" "$POMS/cassandra-pom.xml" cassandra.version; }

need_jars() {
  local home=$1 name=$2
  [[ -f $home/.fetched && -d $home/lib ]] || die "$name jars missing in $home; run: scripts/services.sh fetch"
}

# ---------------------------------------------------------------- process helpers

# port_open HOST PORT: something accepts TCP connections there
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# alive DIR: the pid in DIR/pid is a live process started by this script for DIR
alive() {
  local dir=$1 pid
  [[ -f $dir/pid ]] || return 1
  pid=$(cat "$dir/pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Dlenta.service.dir=$dir"
}

# was_ready DIR: wait_ready succeeded for the process now in DIR/pid
was_ready() { [[ -f $1/ready && $(cat "$1/ready") == "$(cat "$1/pid" 2>/dev/null)" ]]; }

# launch DIR CMD...: start CMD detached (own session), stdout/stderr to DIR/logs/stdout.log
launch() {
  local dir=$1; shift
  rm -f "$dir/pid" "$dir/ready"
  # The inner shell writes its own pid and then execs java, so the pid file holds java's pid.
  # shellcheck disable=SC2016
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$dir/pid" "$@" \
    >>"$dir/logs/stdout.log" 2>&1 </dev/null 9>&- &
  local i
  # Wait for the pid, then for the exec (until then the pid is the inner
  # shell's, and alive() would take the server for dead on a busy machine).
  for i in $(seq 300); do
    [[ -s $dir/pid ]] && alive "$dir" && return 0
    sleep 0.1
  done
  [[ -s $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && return 0 # alive() will judge
  die "could not start $*"
}

show_tail() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    printf '%s\n' "----- tail of $f" >&2
    tail -n 40 "$f" | cut -c1-400 >&2
  done
}

# rotate_logs DIR: keep the previous run's logs as *.prev so readiness checks see only this run
rotate_logs() {
  local f
  for f in "$1"/logs/*.log; do
    [[ -f $f ]] && mv -f "$f" "$f.prev"
  done
  return 0
}

# wait_ready NAME DIR LOGFILE PATTERN HOST PORT [require-log]
wait_ready() {
  local name=$1 dir=$2 log=$3 pattern=$4 host=$5 port=$6 require_log=${7:-}
  local t0=$SECONDS
  while :; do
    if ! alive "$dir"; then
      show_tail "$dir/logs/stdout.log" "$log"
      die "$name exited during startup (logs in $dir/logs)"
    fi
    if grep -qF -- "$pattern" "$log" 2>/dev/null; then break; fi
    if [[ -z $require_log ]] && port_open "$host" "$port"; then break; fi
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      show_tail "$dir/logs/stdout.log" "$log"
      die "$name not ready after ${START_TIMEOUT}s; left running (pid $(cat "$dir/pid")), stop it with: scripts/services.sh stop; logs in $dir/logs"
    fi
    sleep 0.5
  done
  # The log line can come a moment before the port accepts; wait for both.
  while ! port_open "$host" "$port"; do
    ((SECONDS - t0 < START_TIMEOUT)) || die "$name logged ready but $host:$port does not accept"
    sleep 0.2
  done
  cat "$dir/pid" >"$dir/ready"
  say "$name ready on $host:$port in $((SECONDS - t0))s (pid $(cat "$dir/pid"))"
}

# stop_dirs NAME DIR...: SIGTERM all, wait, then SIGKILL what remains
stop_dirs() {
  local dir pid any=0 t0=$SECONDS
  for dir in "$@"; do
    if alive "$dir"; then
      pid=$(cat "$dir/pid")
      say "stopping $(basename "$dir") (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      any=1
    else
      rm -f "$dir/pid" "$dir/ready"
    fi
  done
  ((any)) || return 0
  for dir in "$@"; do
    [[ -f $dir/pid ]] || continue
    pid=$(cat "$dir/pid")
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < STOP_TIMEOUT)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$(basename "$dir") did not stop in ${STOP_TIMEOUT}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$dir/pid" "$dir/ready"
    say "$(basename "$dir") stopped"
  done
}

# ---------------------------------------------------------------- kafka

# Node i of the Kafka cluster (1..KAFKA_NODES); one node keeps the old layout.
kafka_dir() { if ((KAFKA_NODES == 1)); then echo "$RUN/kafka"; else echo "$RUN/kafka-${1:-1}"; fi; }
kafka_dirs() { local i; for ((i = 1; i <= KAFKA_NODES; i++)); do kafka_dir "$i"; done; }
kafka_port() { echo $((KAFKA_PORT + ${1:-1} - 1)); }
kafka_cport() { echo $((KAFKA_CONTROLLER_PORT + ${1:-1} - 1)); }

kafka_java() {
  local dir home
  dir=$(kafka_dir "$1"); home=$(kafka_home)
  printf '%s\n' java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Djava.io.tmpdir=$dir/tmp" \
    "-Dkafka.logs.dir=$dir/logs" \
    "-Dlog4j2.configurationFile=$dir/config/log4j2.yaml" \
    -cp "$home/lib/*"
}

kafka_config() {
  local i=$1 dir voters="" j rf=1 isr=1
  dir=$(kafka_dir "$i")
  for ((j = 1; j <= KAFKA_NODES; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(kafka_cport "$j")"; done
  if ((KAFKA_NODES > 1)); then rf=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3)); isr=$((rf - 1)); fi
  mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
  cat >"$dir/config/server.properties" <<EOF
# Written by scripts/services.sh; edits are overwritten on start.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_port "$i"),CONTROLLER://127.0.0.1:$(kafka_cport "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_port "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.cleaner.dedupe.buffer.size=8388608
log.cleaner.threads=1
log.retention.hours=24
EOF
  cat >"$dir/config/log4j2.yaml" <<'EOF'
# Written by scripts/services.sh; edits are overwritten on start.
Configuration:
  Properties:
    Property:
      - name: "logPattern"
        value: "[%d] %p %m (%c)%n"
  Appenders:
    RollingFile:
      - name: ServerAppender
        fileName: "${sys:kafka.logs.dir}/server.log"
        filePattern: "${sys:kafka.logs.dir}/server.log.%i"
        PatternLayout:
          pattern: "${logPattern}"
        SizeBasedTriggeringPolicy:
          size: "50 MB"
        DefaultRolloverStrategy:
          max: 3
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: ServerAppender
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: state.change.logger
        level: WARN
      - name: org.apache.kafka.clients
        level: WARN
EOF
}

# start_kafka: every node of the cluster; the nodes are launched before any
# is waited for, since a KRaft node is ready only once a quorum is up.
start_kafka() {
  local i
  for ((i = 1; i <= KAFKA_NODES; i++)); do launch_kafka_node "$i"; done
  for ((i = 1; i <= KAFKA_NODES; i++)); do wait_kafka_node "$i"; done
}

start_kafka_one() {
  ((KAFKA_NODES > 1 && $1 >= 1 && $1 <= KAFKA_NODES)) || die "kafka-$1: KAFKA_NODES=$KAFKA_NODES has nodes 1..$KAFKA_NODES"
  launch_kafka_node "$1"
  wait_kafka_node "$1"
}

stop_kafka_one() { stop_dirs "$(kafka_dir "$1")"; }

wait_kafka_node() {
  local dir name=kafka
  dir=$(kafka_dir "$1")
  ((KAFKA_NODES == 1)) || name=kafka-$1
  was_ready "$dir" && return 0
  wait_ready "$name" "$dir" "$dir/logs/server.log" "Kafka Server started" 127.0.0.1 "$(kafka_port "$1")" require-log
}

launch_kafka_node() {
  local i=$1 dir home port cport name=kafka
  dir=$(kafka_dir "$i"); home=$(kafka_home); port=$(kafka_port "$i"); cport=$(kafka_cport "$i")
  ((KAFKA_NODES == 1)) || name=kafka-$i
  if alive "$dir"; then
    if was_ready "$dir" && port_open 127.0.0.1 "$port"; then
      say "$name already running and ready on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
    else
      say "$name already running (pid $(cat "$dir/pid")), waiting until ready"
    fi
    return 0
  fi
  need_jars "$home" kafka
  local p
  for p in "$port" "$cport"; do
    port_open 127.0.0.1 "$p" && die "port 127.0.0.1:$p is taken by another process (see: ss -ltnp 'sport = :$p')"
  done
  kafka_config "$i"
  rotate_logs "$dir"
  local -a java
  mapfile -t java < <(kafka_java "$i")
  # One cluster id for all nodes: the first node's.
  local cid=$(kafka_dir 1)/cluster.id
  if [[ ! -f $dir/data/meta.properties ]]; then
    [[ -s $cid ]] || "${java[@]}" kafka.tools.StorageTool random-uuid >"$cid" 2>"$dir/logs/format.log"
    say "$name: formatting storage (cluster id $(cat "$cid"))"
    "${java[@]}" kafka.tools.StorageTool format -t "$(cat "$cid")" \
      -c "$dir/config/server.properties" -g >>"$dir/logs/format.log" 2>&1 ||
      { show_tail "$dir/logs/format.log"; die "$name storage format failed"; }
  fi
  say "starting $name $KAFKA_VERSION on 127.0.0.1:$port (controller $cport)"
  launch "$dir" "${java[@]}" "-Dlenta.service.dir=$dir" kafka.Kafka "$dir/config/server.properties"
}

# ---------------------------------------------------------------- cassandra

cass_dir() { echo "$RUN/cassandra-$1"; }
cass_ip() { echo "127.0.0.$1"; }
cass_jmx() { echo $((CASSANDRA_JMX_PORT + $1 - 1)); }

# cass_token I N: evenly spread Murmur3 tokens; a single node owns token 0
cass_token() {
  local i=$1 n=$2
  if ((n == 1)); then echo 0; return; fi
  # 2 * (i * floor((2^63-1)/n) - 2^62) stays inside signed 64-bit arithmetic
  echo $((2 * ((i - 1) * (9223372036854775807 / n) - 4611686018427387904)))
}

# Running node dirs (any count), sorted by node number
cass_dirs() {
  local d
  for d in "$RUN"/cassandra-[0-9]*; do [[ -d $d ]] && echo "$d"; done | sort -t- -k2 -n
}

# commitlog_sync_yaml is the commitlog sync setting of cassandra.yaml
# (CASSANDRA_COMMITLOG_SYNC).
commitlog_sync_yaml() {
  case ${CASSANDRA_COMMITLOG_SYNC:-periodic} in
    periodic) printf 'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms' ;;
    group) printf 'commitlog_sync: group\ncommitlog_sync_group_window: 10ms' ;;
    *) die "CASSANDRA_COMMITLOG_SYNC must be periodic or group, not ${CASSANDRA_COMMITLOG_SYNC}" ;;
  esac
}

cass_config() {
  local i=$1 n=$2 dir=$3
  local ip; ip=$(cass_ip "$i")
  mkdir -p "$dir/conf" "$dir/data" "$dir/commitlog" "$dir/saved_caches" "$dir/hints" \
    "$dir/cdc_raw" "$dir/logs" "$dir/tmp" "$dir/triggers"
  cat >"$dir/conf/cassandra.yaml" <<EOF
# Written by scripts/services.sh; edits are overwritten on start.
cluster_name: lenta
num_tokens: 1
initial_token: '$(cass_token "$i" "$n")'
auto_bootstrap: false
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$CASSANDRA_STORAGE_PORT"
listen_address: $ip
rpc_address: $ip
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $CASSANDRA_PORT
start_native_transport: true

data_file_directories:
  - $dir/data
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw

$(commitlog_sync_yaml)
commitlog_segment_size: 32MiB
commitlog_total_space: 512MiB

authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer

# A fresh cluster: no 4.x compatibility, so 5.0 features (e.g. longer TTLs) are on.
storage_compatibility_mode: NONE
auto_snapshot: false
snapshot_before_compaction: false
incremental_backups: false

# Small machine (2 cores): small caches and memtables, few threads.
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 4
concurrent_materialized_view_writes: 2
concurrent_compactors: 1
compaction_throughput: 64MiB/s
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
memtable_flush_writers: 1
key_cache_size: 16MiB
counter_cache_size: 8MiB
prepared_statements_cache_size: 16MiB
file_cache_size: 128MiB
native_transport_max_threads: 64

# Generous timeouts: tests run on a loaded 2-core machine.
read_request_timeout: 5000ms
range_request_timeout: 10000ms
write_request_timeout: 5000ms
counter_write_request_timeout: 5000ms
cas_contention_timeout: 2000ms
truncate_request_timeout: 60000ms
request_timeout: 10000ms

# The app writes batches of up to 1000 events: warn, never fail on size.
batch_size_warn_threshold: 1024KiB
batch_size_fail_threshold: 16384KiB
unlogged_batch_across_partitions_warn_threshold: 1000

materialized_views_enabled: true
user_defined_functions_enabled: false
EOF
  cat >"$dir/conf/logback.xml" <<EOF
<!-- Written by scripts/services.sh; edits are overwritten on start. -->
<configuration scan="false">
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>$dir/logs/system.log</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>$dir/logs/system.log.%i.zip</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>50MB</maxFileSize>
    </triggeringPolicy>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="SYSTEMLOG"/>
  </root>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.thinkaurelius.thrift" level="ERROR"/>
</configuration>
EOF
}

# JDK 17 module flags from Cassandra's conf/jvm17-server.options (cassandra-5.0 branch);
# without them the server and nodetool die with InaccessibleObjectException.
CASSANDRA_JDK17_OPTS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
)

cass_java() {
  local i=$1 dir=$2 home jamm
  home=$(cassandra_home)
  local -a jamms=("$home"/lib/jamm-*.jar)
  jamm=${jamms[0]}
  [[ -f $jamm ]] || die "jamm jar missing in $home/lib"
  local -a opts=(
    -Xms"$CASSANDRA_HEAP" -Xmx"$CASSANDRA_HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
    -XX:+ExitOnOutOfMemoryError -XX:+UseThreadPriorities -XX:+UseTLAB -XX:+ResizeTLAB
    -XX:+PerfDisableSharedMem -XX:StringTableSize=1000003
    -Djava.net.preferIPv4Stack=true
    "-javaagent:$jamm"
    "${CASSANDRA_JDK17_OPTS[@]}"
    # what bin/cassandra and cassandra-env.sh pass
    "-Dcassandra.config=file://$dir/conf/cassandra.yaml"
    -Dcassandra-foreground=yes
    "-Dcassandra.storagedir=$dir"
    "-Dcassandra.logdir=$dir/logs"
    "-Dlogback.configurationFile=$dir/conf/logback.xml"
    "-Djava.io.tmpdir=$dir/tmp"
    "-Djna.tmpdir=$dir/tmp"
    "-Dcassandra.triggers_dir=$dir/triggers"
    "-Dcassandra.jmx.local.port=$(cass_jmx "$i")"
    # fast start on a test machine
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.available_processors=2
    "-Dlenta.service.dir=$dir"
    -cp "$dir/conf:$home/lib/*"
  )
  printf '%s\n' java "${opts[@]}"
}

start_cassandra_node() {
  local i=$1 n=$2 dir ip
  dir=$(cass_dir "$i"); ip=$(cass_ip "$i")
  local name=cassandra-$i
  if alive "$dir"; then
    if was_ready "$dir" && port_open "$ip" "$CASSANDRA_PORT"; then
      say "$name already running and ready on $ip:$CASSANDRA_PORT (pid $(cat "$dir/pid"))"
      return 0
    fi
    say "$name already running (pid $(cat "$dir/pid")), waiting until ready"
    wait_ready "$name" "$dir" "$dir/logs/system.log" "Startup complete" "$ip" "$CASSANDRA_PORT"
    return 0
  fi
  local p
  for p in "$CASSANDRA_PORT" "$CASSANDRA_STORAGE_PORT"; do
    port_open "$ip" "$p" && die "port $ip:$p is taken by another process (see: ss -ltnp 'sport = :$p')"
  done
  port_open 127.0.0.1 "$(cass_jmx "$i")" && die "JMX port 127.0.0.1:$(cass_jmx "$i") is taken by another process"
  cass_config "$i" "$n" "$dir"
  rotate_logs "$dir"
  local -a java
  mapfile -t java < <(cass_java "$i" "$dir")
  say "starting $name (cassandra $CASSANDRA_VERSION) on $ip:$CASSANDRA_PORT"
  launch "$dir" "${java[@]}" org.apache.cassandra.service.CassandraDaemon
  wait_ready "$name" "$dir" "$dir/logs/system.log" "Startup complete" "$ip" "$CASSANDRA_PORT"
}

start_cassandra() {
  local n=$CASSANDRA_NODES
  [[ $n =~ ^[1-9]$ ]] || die "CASSANDRA_NODES must be 1..9 (got '$n')"
  need_jars "$(cassandra_home)" cassandra
  mkdir -p "$RUN"
  # Data of a cluster with another node count would not fit (tokens, peers): refuse.
  if [[ -f $RUN/cassandra.nodes ]] && [[ $(cat "$RUN/cassandra.nodes") != "$n" ]]; then
    local old; old=$(cat "$RUN/cassandra.nodes")
    local d
    for d in $(cass_dirs); do
      alive "$d" && die "a $old-node Cassandra is running; run 'scripts/services.sh stop cassandra' (and 'wipe cassandra') before starting $n nodes"
    done
    die "existing Cassandra data is for $old node(s), not $n; run 'scripts/services.sh wipe cassandra' first (or CASSANDRA_NODES=$old)"
  fi
  echo "$n" >"$RUN/cassandra.nodes"
  local i
  for ((i = 1; i <= n; i++)); do
    start_cassandra_node "$i" "$n"
  done
  wait_ring "$n"
}

# wait_ring N: wait until every node's gossip sees all N nodes Up and Normal.
# A node logs "Startup complete" once it has joined, but the nodes that were
# already running mark it UP only after their next gossip round and echo; a
# client that connects in that gap to one of them and reads at QUORUM (RF 3)
# gets "Cannot achieve consistency level" although all nodes are up. So the
# ring is ready only when each node's own view (nodetool status) says UN for
# all N.
wait_ring() {
  local n=$1 i t0=$SECONDS up
  ((n > 1)) || return 0
  for ((i = 1; i <= n; i++)); do
    while :; do
      up=$(nodetool -n "$i" status 2>/dev/null | grep -c '^UN ' || true)
      ((up == n)) && break
      ((SECONDS - t0 < START_TIMEOUT)) || die "ring not ready after ${START_TIMEOUT}s: cassandra-$i sees $up of $n nodes Up/Normal (scripts/services.sh nodetool -n $i status)"
      sleep 1
    done
  done
  say "ring of $n ready: every node sees $n nodes Up/Normal in $((SECONDS - t0))s"
}

stop_cassandra() {
  local -a dirs
  mapfile -t dirs < <(cass_dirs)
  ((${#dirs[@]})) || return 0
  stop_dirs "${dirs[@]}"
}

stop_kafka() {
  local -a dirs
  mapfile -t dirs < <(kafka_dirs)
  stop_dirs "${dirs[@]}"
}

# nodes_of_cluster: the node count of the cluster in $RUN
nodes_of_cluster() {
  [[ -f $RUN/cassandra.nodes ]] || die "no Cassandra cluster in $RUN; run 'start cassandra' first"
  cat "$RUN/cassandra.nodes"
}

start_cassandra_one() {
  local i=$1 n
  n=$(nodes_of_cluster)
  ((i >= 1 && i <= n)) || die "cassandra-$i: the cluster has nodes 1..$n"
  need_jars "$(cassandra_home)" cassandra
  start_cassandra_node "$i" "$n"
  wait_ring "$n"
}

stop_cassandra_one() { stop_dirs "$(cass_dir "$1")"; }

# kill_one NAME SIGNAL: signal one server's JVM and wait until it has gone
kill_one() {
  local name=$1 sig=${2:-KILL} dir pid t0=$SECONDS
  case $name in
    kafka) dir=$(kafka_dir) ;;
    kafka-[1-9]) dir=$(kafka_dir "${name#kafka-}") ;;
    cassandra-[1-9]) dir=$(cass_dir "${name#cassandra-}") ;;
    *) die "kill: unknown server '$name' (kafka, kafka-N, cassandra-N)" ;;
  esac
  [[ $sig =~ ^[A-Z0-9]+$ ]] || die "kill: signal '$sig' (e.g. KILL, TERM, STOP, CONT)"
  alive "$dir" || die "kill: $name is not running"
  pid=$(cat "$dir/pid")
  kill "-$sig" "$pid"
  case $sig in STOP | CONT | 19 | 18) say "$name (pid $pid): SIG$sig sent"; return 0 ;; esac
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS - t0 < STOP_TIMEOUT)) || die "$name (pid $pid) still alive ${STOP_TIMEOUT}s after SIG$sig"
    sleep 0.05
  done
  rm -f "$dir/ready"
  say "$name (pid $pid) killed with SIG$sig"
}

# ---------------------------------------------------------------- status, logs

status() {
  local down=0 dir pid ip i
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    dir=$(kafka_dir "$i"); local name=kafka port
    ((KAFKA_NODES == 1)) || name=kafka-$i
    port=$(kafka_port "$i")
    if alive "$dir"; then
      pid=$(cat "$dir/pid")
      if port_open 127.0.0.1 "$port"; then
        say "$(printf '%-12s' "$name") running  pid $pid  127.0.0.1:$port  ready"
      else
        say "$(printf '%-12s' "$name") running  pid $pid  127.0.0.1:$port  NOT accepting"; down=1
      fi
    else
      say "$(printf '%-12s' "$name") stopped"; down=1
    fi
  done
  local -a dirs
  mapfile -t dirs < <(cass_dirs)
  if ((${#dirs[@]} == 0)); then
    say "cassandra    stopped (no data)"; down=1
  fi
  for dir in "${dirs[@]}"; do
    i=${dir##*-}; ip=$(cass_ip "$i")
    if alive "$dir"; then
      pid=$(cat "$dir/pid")
      if port_open "$ip" "$CASSANDRA_PORT"; then
        say "cassandra-$i  running  pid $pid  $ip:$CASSANDRA_PORT  ready"
      else
        say "cassandra-$i  running  pid $pid  $ip:$CASSANDRA_PORT  NOT accepting"; down=1
      fi
    else
      say "cassandra-$i  stopped"; down=1
    fi
  done
  return $down
}

logs() {
  local name=${1:-cassandra} lines=${2:-100}
  case $name in
    kafka) tail -n "$lines" "$(kafka_dir)/logs/server.log" ;;
    kafka-[1-9]) tail -n "$lines" "$(kafka_dir "${name#kafka-}")/logs/server.log" ;;
    cassandra) tail -n "$lines" "$(cass_dir 1)/logs/system.log" ;;
    cassandra-[0-9] | cassandra[0-9]) tail -n "$lines" "$(cass_dir "${name##*[a-z-]}")/logs/system.log" ;;
    *) die "unknown service '$name' (kafka, cassandra, cassandra-N)" ;;
  esac
}

nodetool() {
  local i=1
  if [[ ${1:-} == -n ]]; then i=$2; shift 2; fi
  need_jars "$(cassandra_home)" cassandra
  mkdir -p "$RUN/nodetool"
  java -Xmx256m "${CASSANDRA_JDK17_OPTS[@]}" -Dcassandra.logdir="$RUN/nodetool" \
    -Duser.home="$RUN/nodetool" -Dlogback.configurationFile=/dev/null -cp "$(cassandra_home)/lib/*" \
    org.apache.cassandra.tools.NodeTool -h 127.0.0.1 -p "$(cass_jmx "$i")" "$@"
}

print_env() {
  local i sep=""
  cat <<EOF
KAFKA_BROKERS=$(for ((i = 1; i <= KAFKA_NODES; i++)); do printf '%s' "${sep}127.0.0.1:$(kafka_port "$i")"; sep=,; done)
CASSANDRA_HOSTS=$(sep=""; for ((i = 1; i <= CASSANDRA_NODES; i++)); do printf '%s' "${sep}127.0.0.$i"; sep=,; done)
CASSANDRA_PORT=$CASSANDRA_PORT
EOF
}

# ---------------------------------------------------------------- main

targets() {
  case ${1:-all} in
    all) printf '%s\n' kafka cassandra ;;
    kafka | cassandra) echo "$1" ;;
    cassandra-[1-9]) echo "cassandra_one ${1#cassandra-}" ;;
    kafka-[1-9]) echo "kafka_one ${1#kafka-}" ;;
    *) die "unknown service '$1' (kafka, cassandra, cassandra-N, all)" ;;
  esac
}

main() {
  local -a args=()
  while (($#)); do
    case $1 in
      --nodes) [[ $# -ge 2 ]] || die "--nodes needs a number"; CASSANDRA_NODES=$2; shift 2 ;;
      --nodes=*) CASSANDRA_NODES=${1#--nodes=}; shift ;;
      -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  set -- "${args[@]}"
  local cmd=${1:-}
  (($#)) && shift
  local t
  case $cmd in
    start | up | stop | restart | wipe)
      # One start/stop at a time per checkout (several people or test runs may share it).
      mkdir -p "$RUN"
      exec 9>"$RUN/.lock"
      flock -w 600 9 || die "another scripts/services.sh holds $RUN/.lock"
      ;;
  esac
  case $cmd:${1:-} in
    fetch:cassandra-* | up:cassandra-* | restart:cassandra-* | wipe:cassandra-* | fetch:kafka-* | up:kafka-* | restart:kafka-* | wipe:kafka-*)
      die "$cmd works on whole services (kafka, cassandra, all); start, stop and kill take one node (cassandra-N)" ;;
  esac
  case $cmd in
    fetch) for t in $(targets "${1:-all}"); do "fetch_$t"; done ;;
    start) while read -r t a; do "start_$t" $a; done < <(targets "${1:-all}") ;;
    up) for t in $(targets "${1:-all}"); do "fetch_$t"; "start_$t"; done ;;
    stop) while read -r t a; do "stop_$t" $a; done < <(targets "${1:-all}") ;;
    kill) [[ $# -ge 1 ]] || die "kill needs a server name (kafka, cassandra-N)"; kill_one "$@" ;;
    restart)
      for t in $(targets "${1:-all}"); do "stop_$t"; done
      for t in $(targets "${1:-all}"); do "start_$t"; done ;;
    status) status ;;
    logs) logs "$@" ;;
    wipe)
      for t in $(targets "${1:-all}"); do
        "stop_$t"
        if [[ $t == kafka ]]; then rm -rf $(kafka_dirs); else
          local d
          for d in $(cass_dirs); do rm -rf "$d"; done
          rm -f "$RUN/cassandra.nodes"
        fi
        say "$t data wiped"
      done ;;
    nodetool) nodetool "$@" ;;
    env) print_env ;;
    "" | help) main --help ;;
    *) die "unknown command '$cmd' (fetch, start, up, stop, restart, status, logs, wipe, nodetool, env)" ;;
  esac
}

main "$@"
