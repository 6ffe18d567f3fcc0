// Package bench is feedbench's engine: it runs feedd as a subprocess
// (package feeddproc builds, starts and stops it), loads a generated
// social network and event stream (package workload) through the public
// HTTP API, measures fan-out from feedd's /metrics counters, end-to-end
// latency and feed reads with a fasthttp client, and measures the
// ceilings (the same rows written straight into the store, the same pages
// read straight from it) in the same run.
// Results go into a report.Run (package report).
//
// Scenarios are listed in registry.go; each lives in its own file
// (scenario_*.go), the push scenario's parts in push*.go. The soak
// (scenario_soak.go) is not in the suite: it holds a steady paced load for
// minutes, samples feedd's heap, goroutines and resident set from /metrics
// (parsed with prometheus/common/expfmt) and judges whether they stayed
// flat (soak_verdict.go).
// All traffic goes to 127.0.0.1; every load loop is bounded in count and in
// time.
//
// The one exception to "httpapi is the only importer of fasthttp": this
// package's load client (client.go, scenario_push.go) is a fasthttp.Client.
// It is not an adapter of Lenta's but the instrument that measures the
// server from outside, and it needs fasthttp's pooled, allocation-light
// requests so that the client, sharing the machine's cores, does not become
// what is measured. Msgpack goes through package schema like everywhere
// else.
package bench
