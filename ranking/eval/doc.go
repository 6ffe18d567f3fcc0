// Package eval measures the ranking offline: it generates users with
// hidden affinities for their friends, plays a realistic interaction log
// (posts, photos, broadcasts, Class marks, gifts, friend groups) through
// the same fanout hook that keeps production signals up to date, splits
// the log by time, and reports NDCG@20 of the ranked order against newest
// first on the held-out interactions.
//
// Everything is deterministic for a seed. The package is pure computation:
// it must never import a storage or transport library (it uses
// ranking.MemoryStore).
package eval
