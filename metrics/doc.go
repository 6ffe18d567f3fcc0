// Package metrics is Lenta's Prometheus instrumentation: one Registry per
// process holding the HTTP, ingest and fan-out metrics plus the Go runtime
// and process collectors, a net/http handler that serves them in the
// Prometheus text format (httpapi serves it on fasthttp), and the reader of
// that text for the bench and the test suites (ParseSamples).
//
// It is the only package that imports the Prometheus client (and its
// text parser), and it imports no HTTP server library. Other packages
// see small methods (Route.Observe, EventsAccepted, the fanout.Observer
// methods, SetLagFunc) and never a prometheus type.
//
// This package must never register into the global default registry, never
// create a label from unbounded input (user ids, event ids, error text,
// raw request paths), and never block or allocate per observation on a hot
// path beyond what the Prometheus client itself does.
package metrics
