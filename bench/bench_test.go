package bench

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics([]byte("# HELP x\nlenta_fanout_deliveries_total 12\nlenta_http_requests_total{route=\"a\"} 2\nlenta_http_requests_total{route=\"b\"} 3\n"))
	if err != nil || m[mDeliveries] != 12 || m["lenta_http_requests_total"] != 5 {
		t.Errorf("%v %v", m, err)
	}
}

func TestSummarize(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(101-i)*time.Millisecond)
	}
	s := l.Summarize()
	if s.N != 100 || s.P50 != 50 || s.P99 != 99 || s.Max != 100 {
		t.Errorf("%+v", s)
	}
	if got := l.Millis(10); len(got) > 11 || got[0] != 1 || got[len(got)-1] != 100 {
		t.Errorf("thinned %v", got)
	}
}

func TestBusyRates(t *testing.T) {
	t0 := time.Unix(0, 0)
	var ss []Sample
	for i := range 20 { // 5 s at 250 ms, 1,000 rows/s, always backlogged
		ss = append(ss, Sample{At: t0.Add(time.Duration(i) * 250 * time.Millisecond), Deliveries: float64(i * 250), Lag: 1})
	}
	r := busyRates(ss)
	if len(r) == 0 || r[0] < 999 || r[len(r)-1] > 1001 {
		t.Errorf("rates %v", r)
	}
}

func TestSkimPageCountsItemsAndReadsTheCursor(t *testing.T) {
	type item struct {
		EventID string   `msgpack:"event_id"`
		Media   []string `msgpack:"media"`
		Explain map[string]float64
	}
	page := map[string]any{
		"items":       []item{{EventID: "a", Media: []string{"m"}}, {EventID: "b", Explain: map[string]float64{"score": 1.5}}, {}},
		"next_cursor": "cur",
		"extra":       []int{1, 2},
	}
	body, err := schema.MarshalMsgpackValue(page)
	if err != nil {
		t.Fatal(err)
	}
	n, next, err := skimPage(1, body)
	if err != nil || n != 3 || next != "cur" {
		t.Fatalf("skimPage = %d, %q, %v; want 3, cur", n, next, err)
	}
	if _, _, err := skimPage(1, body[:len(body)-3]); err == nil {
		t.Fatal("a truncated page was read without error")
	}
}
