// Package rankcache keeps viewers' ranked orders (ranking.Order) in
// process memory, bounded by bytes: ranking.OrderCache on otter
// (github.com/maypok86/otter/v2, S3-FIFO eviction, weighted by
// Order.Bytes, entries expire with their snapshot).
//
// It is the only package importing otter. It must never hold the only
// copy of anything a client depends on: ranking stores every order a
// cursor names in the snapshot store, and the cache may forget any order
// at any time. It must never decide what a viewer may see (ranking and
// timeline re-check every item of every page).
package rankcache
