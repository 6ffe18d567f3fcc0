// Package workload generates the bench's social network and event stream:
// N users with a power-law friend distribution (mean about 90 friends, as on
// OK.ru), communities with followers, a few very large authors above the
// hybrid threshold, and an event mix (posts, photos, Class marks, gifts,
// live alerts, deletes, graph changes) with configurable proportions.
//
// Everything is derived from one seed: the same Config gives the same graph
// and the same events (only the timestamps, which the caller passes in, vary
// between runs). Nothing here does I/O.
package workload
