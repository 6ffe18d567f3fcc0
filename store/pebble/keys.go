package pebblestore

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Key layout.
//
// One Pebble DB holds every table. The first byte of a key names its table;
// the rest is the table's key, built from these fixed encodings:
//
//	i64    8 bytes big-endian of uint64(v) ^ 1<<63, so byte order = int64 order
//	inv64  ^i64: byte order = descending int64 order (newest first)
//	u32    4 bytes big-endian
//	u64    8 bytes big-endian
//	str    uvarint length, then the bytes (used where more key parts follow)
//	tail   the bytes up to the end of the key (only as the last part)
//	invid  every byte inverted (^c), then 0xFF: byte order = descending
//	       string order, prefixes included (see appendInvID); the id must not
//	       contain 0x00
//
// Tables (key -> value):
//
//	0x01 meta       name(tail)                         -> per name
//	0x10 edge       rel u8, from i64, group str, to i64 -> edge value
//	0x11 edgeRev    rel u8, to i64, from i64            -> empty
//	0x12 audience   user i64                            -> i64 (8 bytes BE)
//	0x13 large      user i64                            -> empty
//	0x14 relVersion user i64                            -> u64 (graph.Store.RelationsVersion)
//	0x20 object     id(tail)                            -> object value
//	0x21 mark       object str, actor i64               -> mark value
//	0x22 classCount object(tail)                        -> counts value (Class count, other kinds)
//	0x23 comment    object str, id(tail)                -> comment value (tombstones too)
//	0x24 commentThread object str, ts i64, id(tail)     -> empty (standing comments)
//	0x25 commentCount object(tail)                      -> i64 (8 bytes BE)
//	0x26 myReaction user i64, object(tail)              -> kind (empty: Class!)
//	0x30 row        ns u8, user i64, ts inv64, id invid -> entry value
//	0x31 marker     user i64, object str, actor i64, ts inv64, id invid -> marker value
//	0x32 tlversion  ns u8, user i64 -> u64 (timeline.Store.Version; bumped by Write and Delete)
//	0x40 ledger     event id(tail)                      -> ts i64 (8 bytes BE)
//	0x41 ledgerAge  ts i64, event id(tail)              -> empty
//	0x50 dead       ts i64, seq u64                     -> dead letter value
//	0x60 log        partition u32, seq u64              -> event (msgpack)
//	0x61 logOffset  partition u32                       -> committed seq u64
//	0x80-0x8B       notifications, push queue, retries, leases, claims
//	                (see notify.go, push.go, claim.go)
//	0x90-0x92       ranking: affinity, snapshots (see ranking.go)
//
// Invariants:
//   - edge holds every edge ever set, On or Off: an Off edge is the
//     tombstone that keeps last-writer-wins working. Non-member edges have
//     the empty group, so (rel, from) is a prefix of all of from's edges of
//     that kind and the member lists of one group share (Member, owner,
//     group) as prefix; the str length keeps group "a" apart from "ab".
//   - edgeRev holds (rel, to, from) exactly when edge (rel, from, to) is On,
//     and only for Follow (followers) and Block (blockers).
//   - relVersion[u] changes in the same batch as every flip of a Friend,
//     Follow or Block edge from u and of a Block edge to u: the edges
//     graph.Relations(u) is read from.
//   - audience[u] = #On Friend edges from u + #On Follow edges to u. It is
//     written in the same batch as the edge flip that changes it, under the
//     stripe locks of both the edge and the counter.
//   - mark holds every mark ever set (Off ones too); classCount[o] = #On
//     marks of o of kind Class!, and after it the #On marks of o of each
//     other kind (those above 0), written in the same batch as the flip
//     or kind change, under o's stripe. myReaction (u, o) exists
//     exactly while u's mark on o is On, holding its kind, written in the
//     same batch as the mark (and backfilled once for marks written
//     before it: metaReactIndex).
//   - comment holds every comment ever written or deleted; commentThread
//     holds (object, ts, id) exactly for the comments that stand (written,
//     not deleted), and commentCount[o] is their number: all three change
//     in one batch under o's stripe (comments.go).
//   - row keys of one timeline share (ns, user) and sort newest first by
//     (TS desc, ID desc), which is exactly timeline.Position order, so a page
//     is one forward scan and "strictly after p" is the lower bound
//     rowKey(p)+0x00. Everything older than a timestamp is one key range.
//   - marker (user, object, actor, ts, id) exists exactly for each Home
//     row (ts, id) of an Aggregated kind (Class!, comment) of that actor,
//     object being timeline.MarkerObject(kind, row's object): written blind with
//     the row, removed with it (Delete, Trim). Readers keep each actor's
//     first (newest) marker, so no write ever reads one.
//   - ledgerAge has one key per Record; ledger holds the latest ts per id.
//   - log keys of a partition are consumed in seq order; logOffset is the
//     last consumed seq, and no reader looks at or below it. Keys at or
//     below it are deleted by a DeleteRange at most about once a second per
//     partition and when Run stops (see cleanAfter), so a crash may leave
//     some: OpenLog finds them and the next clean-up covers them.
//   - the next seq of a partition is max(last log key, logOffset)+1.
const (
	tMeta          byte = 0x01
	tEdge          byte = 0x10
	tEdgeRev       byte = 0x11
	tAudience      byte = 0x12
	tLarge         byte = 0x13
	tRelVersion    byte = 0x14
	tObject        byte = 0x20
	tMark          byte = 0x21
	tClassCount    byte = 0x22
	tComment       byte = 0x23
	tCommentThread byte = 0x24
	tCommentCount  byte = 0x25
	tMyReaction    byte = 0x26
	tRow           byte = 0x30
	tMarker        byte = 0x31
	tTLVersion     byte = 0x32
	tLedger        byte = 0x40
	tLedgerAge     byte = 0x41
	tDead          byte = 0x50
	tLog           byte = 0x60
	tLogOffset     byte = 0x61
)

// Meta names.
const (
	metaFormat        = "format"
	metaLogPartitions = "log.partitions"
	metaReactIndex    = "reactions.index" // set once myReaction holds every On mark
)

// formatVersion is the layout version written under meta "format". Open
// refuses a data folder with a different one.
const formatVersion = 2 // 2: one class marker per row (was one per actor)

const signBit = 1 << 63

// errBadID is returned for ids a key cannot hold.
var errBadID = errors.New("id must be non-empty and must not contain NUL")

func appendI64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^signBit)
}

func decodeI64(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ signBit)
}

func appendInv64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, ^(uint64(v) ^ signBit))
}

func decodeInv64(b []byte) int64 {
	return int64(^binary.BigEndian.Uint64(b) ^ signBit)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendInvID appends id in descending order: each byte inverted, then
// 0xFF. For ids x < y: if they differ at byte i, ^x[i] > ^y[i]; if x is a
// proper prefix of y, 0xFF > ^y[len(x)] because y[len(x)] != 0. Either way
// key(x) > key(y), so y (the larger id) sorts first.
func appendInvID(b []byte, id string) []byte {
	for i := 0; i < len(id); i++ {
		b = append(b, ^id[i])
	}
	return append(b, 0xFF)
}

// appendUninvID decodes an invid (with its 0xFF) back into id bytes.
func appendUninvID(b, inv []byte) []byte {
	inv = inv[:len(inv)-1]
	for _, c := range inv {
		b = append(b, ^c)
	}
	return b
}

func validKeyID(id string) bool {
	return id != "" && strings.IndexByte(id, 0) < 0
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// appended to dst; nil means no upper bound (p is all 0xFF).
func prefixEnd(dst, p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xFF {
			dst = append(dst, p[:i+1]...)
			dst[len(dst)-1]++
			return dst
		}
	}
	return nil
}

// ---- graph ----

// edgePrefix is the prefix of all of from's edges of kind rel (group ""),
// or of one group's member edges.
func edgePrefix(b []byte, rel uint8, from int64, group string) []byte {
	b = append(b, tEdge, rel)
	b = appendI64(b, from)
	return appendStr(b, group)
}

func edgeKey(b []byte, rel uint8, from, to int64, group string) []byte {
	b = edgePrefix(b, rel, from, group)
	return appendI64(b, to)
}

func edgeRevPrefix(b []byte, rel uint8, to int64) []byte {
	b = append(b, tEdgeRev, rel)
	return appendI64(b, to)
}

func edgeRevKey(b []byte, rel uint8, to, from int64) []byte {
	return appendI64(edgeRevPrefix(b, rel, to), from)
}

func audienceKey(b []byte, user int64) []byte {
	return appendI64(append(b, tAudience), user)
}

// relVersionKey is the key of a user's relations version
// (graph.Store.RelationsVersion).
func relVersionKey(b []byte, user int64) []byte {
	return appendI64(append(b, tRelVersion), user)
}

func largeKey(b []byte, user int64) []byte {
	return appendI64(append(b, tLarge), user)
}

// lastI64 decodes the i64 that ends a key.
func lastI64(k []byte) int64 { return decodeI64(k[len(k)-8:]) }

// ---- objects ----

func objectKey(b []byte, id string) []byte {
	return append(append(b, tObject), id...)
}

func markKey(b []byte, object string, actor int64) []byte {
	b = appendStr(append(b, tMark), object)
	return appendI64(b, actor)
}

func classCountKey(b []byte, object string) []byte {
	return append(append(b, tClassCount), object...)
}

func myReactionKey(b []byte, user int64, object string) []byte {
	return append(appendI64(append(b, tMyReaction), user), object...)
}

// ---- timelines ----

const rowPrefixLen = 1 + 1 + 8

func rowPrefix(b []byte, ns uint8, user int64) []byte {
	b = append(b, tRow, ns)
	return appendI64(b, user)
}

func rowKey(b []byte, ns uint8, user, ts int64, id string) []byte {
	b = rowPrefix(b, ns, user)
	b = appendInv64(b, ts)
	return appendInvID(b, id)
}

// tlVersionKey is the key of a timeline's version (timeline.Store.Version).
func tlVersionKey(b []byte, ns uint8, user int64) []byte {
	b = append(b, tTLVersion, ns)
	return appendI64(b, user)
}

func markerPrefix(b []byte, user int64, object string) []byte {
	b = appendI64(append(b, tMarker), user)
	return appendStr(b, object)
}

func markerKey(b []byte, user int64, object string, actor, ts int64, id string) []byte {
	b = appendI64(markerPrefix(b, user, object), actor)
	b = appendInv64(b, ts)
	return appendInvID(b, id)
}

// markerActor is the actor of a marker key whose prefix is n bytes long.
func markerActor(k []byte, n int) int64 { return decodeI64(k[n : n+8]) }

// ---- fan-out ----

func ledgerKey(b []byte, id string) []byte {
	return append(append(b, tLedger), id...)
}

func ledgerAgeKey(b []byte, ts int64, id string) []byte {
	b = appendI64(append(b, tLedgerAge), ts)
	return append(b, id...)
}

func deadKey(b []byte, ts int64, seq uint64) []byte {
	b = appendI64(append(b, tDead), ts)
	return binary.BigEndian.AppendUint64(b, seq)
}

func logPrefix(b []byte, partition int) []byte {
	return binary.BigEndian.AppendUint32(append(b, tLog), uint32(partition))
}

func logKey(b []byte, partition int, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(logPrefix(b, partition), seq)
}

func logOffsetKey(b []byte, partition int) []byte {
	return binary.BigEndian.AppendUint32(append(b, tLogOffset), uint32(partition))
}

func metaKey(b []byte, name string) []byte {
	return append(append(b, tMeta), name...)
}

// hashKey is FNV-1a over a key, used to pick lock stripes.
func hashKey(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
