package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// detail is a HealthDetail as health.UnhealthyError is one.
type detail struct{}

func (detail) Error() string    { return "unhealthy: fanout: store down" }
func (detail) HealthParts() any { return map[string]string{"fanout": "failing"} }

// TestHealthzNamesUnhealthyParts: a HealthDetail error is shown with its
// parts; the healthy answer keeps its shape.
func TestHealthzNamesUnhealthyParts(t *testing.T) {
	var healthErr error
	e := newEnv(t, func(c *Config) {
		c.Health = func(context.Context) error { return healthErr }
	})
	if r := e.do(t, "GET", PathHealth, nil, nil); r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Fatalf("healthy: %d %s", r.status, r.body)
	}
	healthErr = detail{}
	r := e.do(t, "GET", PathHealth, nil, nil)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	if r.status != 503 || got["status"] != "unavailable" || got["code"] != CodeUnhealthy ||
		got["error"] != "unhealthy: fanout: store down" || got["parts"].(map[string]any)["fanout"] != "failing" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("cache-control %q", r.header.Get("Cache-Control"))
	}
}
