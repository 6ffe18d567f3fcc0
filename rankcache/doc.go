// Package rankcache holds the read path's per-viewer caches in process
// memory, each bounded by bytes, on otter (github.com/maypok86/otter/v2,
// S3-FIFO eviction): viewers' ranked orders (ranking.OrderCache, weighted
// by Order.Bytes, entries expire with their snapshot) and viewers'
// relations (timeline.RelationsCache, weighted by CachedRelations.Bytes,
// checked against the graph's version on every use), and verified bearer
// tokens (auth.VerifiedCache, bounded by count, each until its Until),
// and the embedded store's decoded objects (pebblestore.ObjectCache,
// weighted by ObjectBytes; the store sets every entry under its own write
// rules, so a hit is the object as stored).
//
// It is the only package importing otter. It must never hold the only
// copy of anything a client depends on: ranking stores every order a
// cursor names in the snapshot store, and the cache may forget any order
// at any time. It must never decide what a viewer may see (ranking and
// timeline re-check every item of every page, and relations are used only
// while their version is the graph's current one).
package rankcache
