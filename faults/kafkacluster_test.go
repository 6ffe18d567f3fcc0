package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	kafkabus "github.com/lenta-dev/lenta/bus/kafka"
)

// The suite's 3-broker Kafka: KRaft, every node broker and controller, in
// the suite's run folder (kafka-1..3) on ports of its own, so it can run
// beside the 1-broker Kafka the other cases use.
const (
	kafka3Nodes    = 3
	kafka3Port     = 19192 // brokers 19192..19194
	kafka3CtrlPort = 19195 // controllers 19195..19197
)

// kafka3 runs scripts/services.sh for the 3-broker cluster.
func kafka3(t *testing.T, args ...string) time.Duration {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "services.sh")}, args...)...)
	cmd.Env = append(os.Environ(),
		"SERVICES_RUN="+runDir(),
		"KAFKA_NODES="+strconv.Itoa(kafka3Nodes),
		"KAFKA_PORT="+strconv.Itoa(kafka3Port),
		"KAFKA_CONTROLLER_PORT="+strconv.Itoa(kafka3CtrlPort),
		"KAFKA_HEAP=384m",
	)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(t0)
	if err != nil {
		t.Fatalf("services.sh (3 brokers) %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("services.sh (3 brokers) %s (%.1fs): %s", strings.Join(args, " "), d.Seconds(), lastLine(string(out)))
	return d
}

// TestKafkaClusterBrokerLost: on 3 Kafka brokers (topics RF 3,
// min.insync.replicas 2; the producer is idempotent with acks=all) the
// broker leading the most event partitions is SIGKILLed while events are
// published, and brought back. Every POST is answered 202 on its first
// try (the publish waits for the new leader), and the log holds each
// event exactly once: nothing lost, nothing doubled; the state is exact.
func TestKafkaClusterBrokerLost(t *testing.T) {
	res := record(t, "kafka_broker_sigkill", "1 of 3 Kafka brokers (RF 3, min.insync 2, acks=all, idempotent) SIGKILLed mid publish, returned")
	res.time("cluster_start", kafka3(t, "start", "kafka"))
	if os.Getenv("FAULTS_KEEP") != "1" {
		t.Cleanup(func() { kafka3(t, "stop", "kafka") })
	}
	n := max(clusterNodes(), 1) // whichever Cassandra the suite has up
	if out, err := services(n, "start", "cassandra"); err != nil {
		t.Fatalf("start cassandra: %v\n%s", err, out)
	}
	var brokers, hosts []string
	for i := range kafka3Nodes {
		brokers = append(brokers, fmt.Sprintf("127.0.0.1:%d", kafka3Port+i))
	}
	for i := range n {
		hosts = append(hosts, fmt.Sprintf("127.0.0.%d:%d", i+1, cassandraPort))
	}
	d := deploy(t, "kafka3", strings.Join(brokers, ","), strings.Join(hosts, ","), 2, "--kafka-replication", "3")
	var st pubStats
	w := begin(t, res, 6, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pubDone := d.publishPaced(ctx, w, &st)
	time.Sleep(3 * time.Second)
	topic := kafkabus.Config{TopicPrefix: d.flag("--topic-prefix")}.EventsTopic()
	leader, led := busiestLeader(t, brokers, topic)
	res.Notes = append(res.Notes, fmt.Sprintf("killed broker %d, leader of %d of the events topic's partitions", leader, led))
	tKill := time.Now()
	kafka3(t, "kill", fmt.Sprintf("kafka-%d", leader), "KILL")
	time.Sleep(10 * time.Second)
	res.time("broker_down", time.Since(tKill))
	res.time("broker_restart", kafka3(t, "start", fmt.Sprintf("kafka-%d", leader)))
	<-pubDone
	res.time("catch_up", d.drained(5*time.Minute))
	res.Counts["publish_batches"] = st.batches.Load()
	res.Counts["publish_retries"] = st.retries.Load()
	res.Counts["max_publish_wait_ms"] = st.maxWait.Load()
	res.Notes = append(res.Notes, st.failureList()...)
	if st.retries.Load() > 0 {
		t.Errorf("publishes failed while a broker was down (each retried until accepted): %v", st.failureList())
	}
	finish(t, res, d, w, &st)
	if c := res.Comparison; c.LogDup > 0 || c.LogRecords != res.Events {
		t.Errorf("the log holds %d records (%d repeated) for %d events: want each once (idempotent producer, no client retry)", c.LogRecords, c.LogDup, res.Events)
	}
}

// busiestLeader returns the broker id leading the most partitions of topic,
// and how many it leads.
func busiestLeader(t *testing.T, brokers []string, topic string) (int32, int) {
	t.Helper()
	sc := sarama.NewConfig()
	v, err := sarama.ParseKafkaVersion(kafkabus.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	sc.Version = v
	admin, err := sarama.NewClusterAdmin(brokers, sc)
	if err != nil {
		t.Fatalf("kafka admin: %v", err)
	}
	defer admin.Close()
	md, err := admin.DescribeTopics([]string{topic})
	if err != nil || len(md) != 1 || md[0].Err != sarama.ErrNoError {
		t.Fatalf("describe %s: %v %+v", topic, err, md)
	}
	count := map[int32]int{}
	var best int32 = -1
	for _, p := range md[0].Partitions {
		if len(p.Replicas) != kafka3Nodes {
			t.Errorf("partition %d has replicas %v, want %d", p.ID, p.Replicas, kafka3Nodes)
		}
		count[p.Leader]++
		if best < 0 || count[p.Leader] > count[best] || (count[p.Leader] == count[best] && p.Leader < best) {
			best = p.Leader
		}
	}
	if best < 1 || best > kafka3Nodes {
		t.Fatalf("no leader among brokers 1..%d: %+v", kafka3Nodes, md[0].Partitions)
	}
	return best, count[best]
}
