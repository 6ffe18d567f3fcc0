package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// Sync makes graph, object, timeline and ledger writes wait for the
	// write-ahead log to reach the disk. Off by default: those rows are
	// re-derived from the event log after a crash (every write is
	// idempotent). The event log and dead letters always sync.
	Sync bool
	// CacheSize is the block cache size in bytes; 0 means DefaultCacheSize.
	CacheSize int64
	// MemTableSize is the memtable size in bytes; 0 means 64 MiB.
	MemTableSize uint64
	// LockStripes is the number of mutexes that serialise read-modify-write
	// of one edge, object or class marker; 0 means 1024.
	LockStripes int
	// ObjectCache, if set, keeps decoded objects in memory for
	// Objects().Get, exact under every write (see objectCaching).
	ObjectCache ObjectCache
	// Logf receives Pebble's error messages and the event log's failed
	// batches (Log.Run retries them); nil means the standard logger.
	// Pebble's informational messages are dropped.
	Logf func(format string, args ...any)
}

// Store is Lenta's embedded store: one Pebble DB in a data folder. Its
// views (Graph, Objects, Timelines, Ledger, DeadLetters) implement the
// domain interfaces, and Log is the durable in-process event bus. A Store is
// safe for concurrent use.
type Store struct {
	db    *pebble.DB
	wo    *pebble.WriteOptions // fan-out rows: NoSync unless Options.Sync
	locks stripes
	// homeLocks keep a Home timeline's bulk Trim (a DeleteRange over rows
	// it has not read) apart from the commit of Class rows and their
	// markers to it, by user: Write holds them shared, the bulk Trim
	// exclusively. A set of its own, so no caller holds stripes of two
	// sets.
	homeLocks rwStripes
	bufs      sync.Pool // *[]byte scratch buffers, see getBuf
	// writes holds *sortedWrite for TimelineStore.Write.
	writes sync.Pool

	deadSeq uint64 // guarded by deadMu
	deadMu  sync.Mutex

	snapPurge snapPurgeMark

	profiles profilesState // whether any profile exists (profiles.go)

	// tlVersion hands out timeline and relations versions: seeded from
	// the clock at Open (so a restart never repeats a value a timeline had
	// before, unless the clock went back by more than the versions handed
	// out since) and incremented for every Write or Delete of timeline
	// rows and every chunk of SetEdges.
	tlVersion atomic.Uint64

	cacheSize int64                            // the block cache's bound (Options.CacheSize)
	logf      func(format string, args ...any) // Options.Logf or log.Printf

	logMu sync.Mutex
	log   *Log

	objCache *objectCaching // nil: Options.ObjectCache unset

	graph     GraphStore
	objects   ObjectStore
	comments  CommentStore
	timelines TimelineStore
	ledger    Ledger
	dead      DeadLetterStore
}

// DefaultCacheSize is the block cache feedd gives Pebble (--store-cache).
// Feed reads are point lookups spread over the whole keyspace (20 objects,
// their Class counts and the viewer's markers per page); what the block
// cache misses is read from the OS page cache with a pread, which took a
// fifth of feedd's CPU under the read bench at 64 MiB.
const DefaultCacheSize = 512 << 20

// ErrLogRunning is returned by Close while Log.Run is still running, and by
// Run when it is already running.
var ErrLogRunning = errors.New("pebblestore: the event log is being consumed")

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = 64 << 20
	}
	if opts.LockStripes <= 0 {
		opts.LockStripes = 1024
	}
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	po := &pebble.Options{
		CacheSize:          opts.CacheSize,
		MemTableSize:       opts.MemTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{logf: logf},
	}
	// A write stall (too many memtables or L0 files waiting for flushes
	// and compactions) stops every write until it ends: say so, with how
	// long it lasted, since it shows up as a pipeline that applies nothing.
	var stallStart atomic.Int64
	po.EventListener = &pebble.EventListener{
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			stallStart.Store(time.Now().UnixNano())
			logf("pebble: write stall: %s", info.Reason)
		},
		WriteStallEnd: func() {
			if t := stallStart.Swap(0); t != 0 {
				logf("pebble: write stall ended after %v", time.Duration(time.Now().UnixNano()-t).Round(time.Millisecond))
			}
		},
	}
	// Point lookups (edges, objects, marks, markers, ledger) dominate reads;
	// a bloom filter on every level spares most of the misses a disk read.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{db: db, wo: pebble.NoSync, cacheSize: opts.CacheSize, logf: logf}
	s.writes.New = func() any { return new(sortedWrite) }
	if opts.Sync {
		s.wo = pebble.Sync
	}
	s.locks = newStripes(opts.LockStripes)
	s.objCache = newObjectCaching(opts.ObjectCache, len(s.locks))
	s.homeLocks = make(rwStripes, opts.LockStripes)
	s.graph.s, s.objects.s, s.timelines.s, s.ledger.s, s.dead.s = s, s, s, s, s
	s.comments.s = s
	// Dead letter keys are (ts, seq); a clock-based seq base keeps them unique
	// across restarts without a scan.
	s.deadSeq = uint64(time.Now().UnixNano())
	s.tlVersion.Store(uint64(time.Now().UnixNano()))
	if err := s.checkFormat(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if err := s.backfillMyReactions(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

func (s *Store) checkFormat() error {
	k := metaKey(nil, metaFormat)
	v, found, err := s.getCopy(k, nil)
	if err != nil {
		return err
	}
	if !found {
		if err := s.db.Set(k, binary.BigEndian.AppendUint32(nil, formatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("pebblestore: write format: %w", err)
		}
		return nil
	}
	if len(v) != 4 || binary.BigEndian.Uint32(v) != formatVersion {
		return fmt.Errorf("pebblestore: data folder has layout format %x, this build reads %d", v, formatVersion)
	}
	return nil
}

// Close flushes and closes the DB. Stop Log.Run (cancel its context and
// wait for it to return) first.
func (s *Store) Close() error {
	s.logMu.Lock()
	l := s.log
	s.logMu.Unlock()
	if l != nil && l.running.Load() {
		return ErrLogRunning
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblestore: close: %w", err)
	}
	return nil
}

// Graph is the graph.Store view.
func (s *Store) Graph() *GraphStore { return &s.graph }

// Objects is the objects.Store view.
func (s *Store) Objects() *ObjectStore { return &s.objects }

// Timelines is the timeline.Store view.
func (s *Store) Timelines() *TimelineStore { return &s.timelines }

// Ledger is the fanout.Ledger view.
func (s *Store) Ledger() *Ledger { return &s.ledger }

// DeadLetters is the fanout.DeadLetters view.
func (s *Store) DeadLetters() *DeadLetterStore { return &s.dead }

// getCopy appends the value of key to dst. found is false (and err nil)
// when the key is absent.
func (s *Store) getCopy(key, dst []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, fmt.Errorf("pebblestore: get: %w", err)
	}
	dst = append(dst, v...)
	if err := closer.Close(); err != nil {
		return dst, false, fmt.Errorf("pebblestore: get: %w", err)
	}
	return dst, true, nil
}

// getCounter reads an 8-byte counter; absent is 0.
func (s *Store) getCounter(key []byte) (int64, error) {
	var buf [8]byte
	v, found, err := s.getCopy(key, buf[:0])
	if err != nil || !found {
		return 0, err
	}
	return decodeCounter(v)
}

// write fills a new batch and commits it with wo; a failed fill or an
// empty batch commits nothing.
func (s *Store) write(wo *pebble.WriteOptions, fill func(b *pebble.Batch) error) error {
	b := s.db.NewBatch()
	if err := fill(b); err != nil {
		_ = b.Close() // the fill error is the one to report
		return err
	}
	if b.Empty() {
		return b.Close()
	}
	return commit(b, wo)
}

// commit applies b with wo and closes it.
func commit(b *pebble.Batch, wo *pebble.WriteOptions) error {
	err := b.Commit(wo)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pebblestore: commit: %w", err)
	}
	return nil
}

// quietLogger drops Pebble's informational messages.
type quietLogger struct{ logf func(string, ...any) }

func (quietLogger) Infof(string, ...any)                { /* dropped */ }
func (l quietLogger) Errorf(format string, args ...any) { l.logf("pebble: "+format, args...) }
func (l quietLogger) Fatalf(format string, args ...any) { pebble.DefaultLogger.Fatalf(format, args...) }

// getBuf takes a scratch buffer (keys, values, page arenas) from the
// store's pool; putBuf returns it. Nothing may keep a reference into it.
func (s *Store) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 256)
	return &b
}

func (s *Store) putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // do not pin a rare huge buffer
	}
	*b = (*b)[:0]
	s.bufs.Put(b)
}

// CacheStats is the block cache's use since Open.
type CacheStats struct {
	Hits, Misses int64
	Bytes, Max   int64
}

// CacheStats reads the block cache's counters (db.Metrics: cheap enough
// for a metrics scrape, not for a hot path).
func (s *Store) CacheStats() CacheStats {
	m := s.db.Metrics().BlockCache
	return CacheStats{Hits: m.Hits, Misses: m.Misses, Bytes: m.Size, Max: s.cacheSize}
}
