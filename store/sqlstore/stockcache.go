package sqlstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// The stock cache keeps the balance figures of the SKUs that availability
// lookups read, so that a lookup of SKUs read before is answered from
// memory (docs/decisions/0016-availability-cache.md). Reading 20 SKUs'
// balances was most of a lookup's cost on both backends.
//
// It is exact for this process: every statement that writes a balance runs
// in a transaction that records the SKUs it touched (conn.touch), and once
// the transaction has committed — before its caller hears so — their
// entries are dropped. A lookup that started before such a drop does not
// store what it read (it may predate the commit): each drop is numbered
// (gen), a dropped SKU keeps the number as a tombstone, and a lookup stores
// an SKU only if no drop of it is newer than the lookup's start.
//
// Other processes writing the same database (PostgreSQL nodes) tell it
// through the backend: a transaction that touched stock sends the SKUs
// with its COMMIT (Config.StockChannel: pg_notify, delivered only if it
// commits), and the backend's listener hands them to StockNotified. While
// the listener is not listening the cache is off: every lookup reads the
// database.

// DefaultStockCacheBalances bounds the balances the cache holds: a few
// bytes each and ~100 per SKU, so ~40 MB at the default for SKUs with 20
// balances; 100,000 SKUs × 20 locations fit.
const DefaultStockCacheBalances = 2_000_000

// stockCache is the cache. All fields are guarded by mu.
type stockCache struct {
	mu       sync.Mutex
	max      int // balances held at most
	held     int // balances held
	gen      uint64
	flushed  uint64 // gen of the last flush: lookups older than it store nothing
	on       bool
	entries  map[string]stockEntry
	tombs    int            // entries that are tombstones
	inflight map[uint64]int // lookups reading the database, by their start gen
	locs     []string       // interned location codes, indexed in stockEntry.data
	locIndex map[string]int // code → index in locs

	// The rest of what availability reads: the active locations and the
	// channels asked for (nil: no such channel), dropped together
	// (configKey) at gen cfgDropped.
	active     []string
	hasActive  bool
	channels   map[string]*channel.Channel
	cfgDropped uint64
	// The rest of what intake reads besides the order's own rows
	// (IntakeRead): nil when not cached, dropped with the channels.
	intake *intakeConfig

	// API keys found by hash (never those not found: guesses would fill
	// it), dropped together (keysKey) at gen keysDropped, each kept at
	// most keyTTL.
	keys        map[string]cachedKey
	keysDropped uint64
}

// keysKey is what a transaction touches when it writes an API key.
const keysKey = "\x01keys"

// keyTTL bounds how long a key is answered from the cache: a revocation
// this process does not hear of (by another process on a SQLite file, or
// by SQL of one's own; Orderly's own writes drop the keys at once, and
// PostgreSQL nodes tell each other) takes effect within it. Short, because
// it costs only one read per key per TTL.
const keyTTL = 10 * time.Second

// maxCachedKeys bounds the keys the cache keeps.
const maxCachedKeys = 10_000

type cachedKey struct {
	key *auth.APIKey
	at  time.Time
}

// configKey is what a transaction touches when it writes a channel, a
// location, a routing rule set or a channel's connector (never an SKU
// code: those have no control characters).
const configKey = "\x01config"

// intakeConfig is what IntakeRead reads besides the order's own rows and
// the channel: shared by every capture that finds it cached, so nobody
// changes it.
type intakeConfig struct {
	locations  []*inventory.Location
	ruleSet    *routing.RuleSet
	connectors []*store.ChannelConnector
}

// intakeLookup returns the channel named (nil: no such channel) and the
// rest of intake's configuration if both are cached (ok); otherwise the
// gen to pass to storeIntake after reading them.
func (c *stockCache) intakeLookup(channelCode string) (ch *channel.Channel, cfg *intakeConfig, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on && c.intake != nil {
		if ch, found := c.channels[channelCode]; found {
			return ch, c.intake, true, c.gen
		}
	}
	return nil, nil, false, c.gen
}

// storeIntake keeps what a read that started at gen found, unless the
// configuration was dropped (or everything flushed) since.
func (c *stockCache) storeIntake(gen uint64, channelCode string, ch *channel.Channel, cfg *intakeConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.flushed > gen || c.cfgDropped > gen {
		return
	}
	if len(c.channels) >= maxCachedChannels {
		clear(c.channels)
	}
	c.channels[channelCode] = ch
	c.intake = cfg
}

// maxCachedChannels bounds the channels (known or not) the cache keeps.
const maxCachedChannels = 1_000

// stockConfig is the cached rest of an availability read.
type stockConfig struct {
	active  []string
	channel *channel.Channel
}

// stockEntry is one SKU: its n balances packed in data, each as the
// uvarint index of its location in stockCache.locs and the varints of on
// hand, reserved and safety stock (a few bytes where figures are small,
// against 24 as int64s; one allocation per SKU), in location order — or,
// if !valid, a tombstone: the SKU was dropped at gen dropped.
type stockEntry struct {
	valid   bool
	n       int32
	dropped uint64
	data    []byte
}

func newStockCache(max int, on bool) *stockCache {
	return &stockCache{max: max, on: on, entries: map[string]stockEntry{},
		inflight: map[uint64]int{}, locIndex: map[string]int{}, channels: map[string]*channel.Channel{},
		keys: map[string]cachedKey{}}
}

// lookup appends to out the balances of the cached SKUs among skus and
// returns the others; cfg is the active locations and the channel named
// (none: "") if cached, else nil. If anything is missing, the caller reads
// it and passes gen to store (or finish) once.
func (c *stockCache) lookup(skus []string, channelCode string, out *[]*inventory.Balance) (missing []string, cfg *stockConfig, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on && c.hasActive {
		ch, ok := c.channels[channelCode]
		if ok || channelCode == "" {
			cfg = &stockConfig{active: c.active, channel: ch}
		}
	}
	type hit struct {
		sku string
		e   stockEntry
	}
	var hits []hit
	n := 0
	for _, sku := range skus {
		e, ok := c.entries[sku]
		if !c.on || !ok || !e.valid {
			missing = append(missing, sku)
			continue
		}
		n += int(e.n)
		hits = append(hits, hit{sku, e})
	}
	// One allocation for every balance, not one each.
	block := make([]inventory.Balance, 0, n)
	for _, h := range hits {
		data := h.e.data
		for range h.e.n {
			var loc uint64
			b := inventory.Balance{SKU: h.sku}
			loc, data = uvarint(data)
			b.OnHand, data = varint(data)
			b.Reserved, data = varint(data)
			b.SafetyStock, data = varint(data)
			b.Location = c.locs[loc]
			block = append(block, b)
			*out = append(*out, &block[len(block)-1])
		}
	}
	if len(missing) > 0 || cfg == nil {
		c.inflight[c.gen]++
	}
	return missing, cfg, c.gen
}

// store keeps the balances read of skus (every balance each has, sorted by
// SKU) by a lookup that started at gen, except those of SKUs dropped
// since.
func (c *stockCache) store(gen uint64, skus []string, read []*inventory.Balance, channelCode string, cfg *stockConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done(gen)
	if !c.on || c.flushed > gen {
		return
	}
	if cfg != nil && c.cfgDropped <= gen {
		if len(c.channels) >= maxCachedChannels {
			clear(c.channels)
		}
		c.active, c.hasActive = cfg.active, true
		if channelCode != "" {
			c.channels[channelCode] = cfg.channel
		}
	}
	bySKU := map[string][]*inventory.Balance{}
	for _, b := range read {
		bySKU[b.SKU] = append(bySKU[b.SKU], b)
	}
	var buf []byte
	for _, sku := range skus {
		old, had := c.entries[sku]
		if had && (old.valid || old.dropped > gen) {
			continue // there already, or dropped after the read began
		}
		bs := bySKU[sku]
		buf = buf[:0]
		for _, b := range bs {
			buf = binary.AppendUvarint(buf, uint64(c.intern(b.Location)))
			buf = binary.AppendVarint(buf, b.OnHand)
			buf = binary.AppendVarint(buf, b.Reserved)
			buf = binary.AppendVarint(buf, b.SafetyStock)
		}
		if had {
			c.tombs--
		}
		c.entries[sku] = stockEntry{valid: true, n: int32(len(bs)), data: bytes.Clone(buf)}
		c.held += max(1, len(bs))
	}
	if c.held > c.max {
		c.evict()
	}
}

// done ends a lookup's read that started at gen without storing it.
func (c *stockCache) done(gen uint64) {
	if c.inflight[gen]--; c.inflight[gen] <= 0 {
		delete(c.inflight, gen)
	}
}

// finish is done for a caller that does not hold mu.
func (c *stockCache) finish(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done(gen)
}

func (c *stockCache) intern(loc string) int {
	i, ok := c.locIndex[loc]
	if !ok {
		i = len(c.locs)
		c.locs = append(c.locs, loc)
		c.locIndex[loc] = i
	}
	return i
}

// uvarint and varint read what stockEntry.data holds, which the cache
// wrote itself.
func uvarint(b []byte) (uint64, []byte) {
	v, n := binary.Uvarint(b)
	return v, b[n:]
}

func varint(b []byte) (int64, []byte) {
	v, n := binary.Varint(b)
	return v, b[n:]
}

// drop forgets skus: they changed, or may have.
func (c *stockCache) drop(skus []string) {
	if len(skus) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, sku := range skus {
		switch sku {
		case configKey:
			c.dropConfig()
			continue
		case keysKey:
			c.keysDropped = c.gen
			clear(c.keys)
			continue
		}
		c.tomb(sku)
	}
	if c.tombs > 10_000 && c.tombs > len(c.entries)/2 {
		c.prune()
	}
}

// dropConfig forgets the active locations, the channels and intake's
// configuration.
func (c *stockCache) dropConfig() {
	c.cfgDropped = c.gen
	c.active, c.hasActive = nil, false
	clear(c.channels)
	c.intake = nil
}

// tomb turns sku's entry into a tombstone of the current gen, or, when no
// lookup is reading the database (none could store an older figure),
// removes it: intake drops every SKU it reserves, most of them never
// looked up, and a tombstone for each would only wait to be pruned.
func (c *stockCache) tomb(sku string) {
	e, had := c.entries[sku]
	switch {
	case had && e.valid:
		c.held -= max(1, int(e.n))
	case had:
		c.tombs--
	}
	if len(c.inflight) == 0 {
		delete(c.entries, sku)
		return
	}
	c.entries[sku] = stockEntry{dropped: c.gen}
	c.tombs++
}

// prune removes the tombstones no lookup still reading can be stopped by:
// those dropped no later than the oldest such lookup began.
func (c *stockCache) prune() {
	oldest := c.gen
	for g := range c.inflight {
		oldest = min(oldest, g)
	}
	for sku, e := range c.entries {
		if !e.valid && e.dropped <= oldest {
			delete(c.entries, sku)
			c.tombs--
		}
	}
}

// evict makes room: it turns valid entries into tombstones (a lookup still
// reading must not store an older figure in their place) until a quarter
// of the bound is free.
func (c *stockCache) evict() {
	c.gen++
	for sku, e := range c.entries { // random order
		if c.held <= c.max*3/4 {
			break
		}
		if e.valid {
			c.tomb(sku)
		}
	}
	c.prune()
}

// flush forgets everything, and with on false stops caching until it is
// flushed on again.
func (c *stockCache) flush(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.flushed = c.gen
	c.on = on
	clear(c.entries)
	c.held, c.tombs = 0, 0
	c.dropConfig()
	clear(c.keys)
}

// key returns the API key of hash if cached (a copy: the caller may keep
// it), or the gen to pass to storeKey after reading it.
func (c *stockCache) key(hash string, now time.Time) (k *auth.APIKey, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.keys[hash]; ok && c.on && now.Sub(e.at) < keyTTL {
		cp := *e.key
		return &cp, 0
	}
	c.inflight[c.gen]++
	return nil, c.gen
}

// storeKey keeps k, read by a lookup that started at gen, unless keys were
// dropped since; k nil (not found) only ends the lookup.
func (c *stockCache) storeKey(gen uint64, hash string, k *auth.APIKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done(gen)
	if k == nil || !c.on || c.flushed > gen || c.keysDropped > gen {
		return
	}
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	cp := *k
	c.keys[hash] = cachedKey{key: &cp, at: now}
}

// touchSet is the SKUs whose balances a transaction wrote.
type touchSet struct {
	skus []string
	seen map[string]bool
}

func (t *touchSet) add(skus ...string) {
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	for _, s := range skus {
		if !t.seen[s] {
			t.seen[s] = true
			t.skus = append(t.skus, s)
		}
	}
}

// touch records that the transaction writes the balances of skus. Every
// statement that writes stock_balances must be preceded by one: it is what
// keeps the stock cache exact.
func (c conn) touch(skus ...string) {
	if c.touched != nil {
		c.touched.add(skus...)
	}
}

// stockNotice is what a transaction that touched skus tells the other
// processes, and flushAll what it sends when they do not fit one
// notification (PostgreSQL's payload limit is 8,000 bytes).
const flushAll = "*"

func stockNotice(node string, skus []string) string {
	n := len(node) + 1
	for _, s := range skus {
		n += len(s) + 1
	}
	if n > 7_900 {
		return node + "\n" + flushAll
	}
	return node + "\n" + strings.Join(skus, "\x1f")
}

// beforeCommit sends, with the transaction's COMMIT, the notice of the
// SKUs it touched, where other processes listen (Config.StockChannel).
func (s *Store) beforeCommit(ctx context.Context, c conn) error {
	if s.cfg.StockChannel == "" || c.touched == nil || len(c.touched.skus) == 0 {
		return nil
	}
	return c.deferExec(ctx, `SELECT pg_notify(?, ?)`, s.cfg.StockChannel, stockNotice(s.node, c.touched.skus))
}

// afterTx drops the SKUs a transaction touched, whether it committed or
// not (dropping an unchanged SKU costs a read).
func (s *Store) afterTx(t *touchSet) {
	if t != nil {
		s.stock.drop(t.skus)
	}
}

// StockNotified handles a notice another process sent (stockNotice): it
// drops the SKUs, or everything. Notices this store sent are ignored: it
// dropped their SKUs when it committed.
func (s *Store) StockNotified(payload string) {
	node, skus, ok := strings.Cut(payload, "\n")
	if !ok || node == s.node {
		return
	}
	if skus == flushAll {
		s.stock.flush(true)
		return
	}
	s.stock.drop(strings.Split(skus, "\x1f"))
}

// StockCacheOn starts caching, empty: the backend calls it once it
// listens for other processes' notices.
func (s *Store) StockCacheOn() { s.stock.flush(true) }

// StockCacheOff empties the cache and stops it: the backend calls it when
// it may miss other processes' notices.
func (s *Store) StockCacheOff() { s.stock.flush(false) }

// StockCaching says whether the stock cache is on: for tests and
// diagnostics.
func (s *Store) StockCaching() bool {
	s.stock.mu.Lock()
	defer s.stock.mu.Unlock()
	return s.stock.on
}
