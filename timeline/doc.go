// Package timeline keeps per-user timelines and assembles feed pages.
//
// A timeline is a list of small entries (ids, not content), newest first,
// ordered by (ts, id) and capped in length and age (Policy). Each user has a
// home timeline (what the fan-out delivered to them) and an outbox (what the
// user authored); outboxes of authors above the hybrid threshold are merged
// into their followers' pages at read time. The Reader filters (blocks,
// audiences, deleted objects, ended broadcasts), aggregates Class! marks
// and friends' comments per object (one marker index, MarkerObject),
// hydrates content with its Class and comment counts and reactions
// (counts per kind and the viewer's own, reactions.go), and hands out
// keyset cursors that are signed for one viewer, so a client can neither
// forge one nor use it on another feed.
//
// This package must never import a storage or transport library.
package timeline
