package sqlstore

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
)

func figures(sku string, onHand ...int64) []*inventory.Balance {
	bs := make([]*inventory.Balance, len(onHand))
	for i, n := range onHand {
		bs[i] = &inventory.Balance{SKU: sku, Location: fmt.Sprint("L", i), OnHand: n}
	}
	return bs
}

func cachedOnHand(t *testing.T, c *stockCache, sku string) (int64, bool) {
	t.Helper()
	var got []*inventory.Balance
	missing, cfg, gen := c.lookup([]string{sku}, "", &got)
	if len(missing) > 0 || cfg == nil {
		c.finish(gen)
	}
	if len(missing) > 0 {
		return 0, false
	}
	var n int64
	for _, b := range got {
		n += b.OnHand
	}
	return n, true
}

// A lookup that began before a drop of its SKU must not store what it
// read: the read may predate the change behind the drop.
func TestStockCacheDropDuringRead(t *testing.T) {
	c := newStockCache(100, true)
	missing, _, gen := c.lookup([]string{"A", "B"}, "", new([]*inventory.Balance))
	if len(missing) != 2 {
		t.Fatalf("missing %v", missing)
	}
	c.drop([]string{"A"}) // a commit while the lookup reads
	c.store(gen, missing, append(figures("A", 1), figures("B", 2)...), "", nil)
	if _, ok := cachedOnHand(t, c, "A"); ok {
		t.Error("A was stored by a lookup older than its drop")
	}
	if n, ok := cachedOnHand(t, c, "B"); !ok || n != 2 {
		t.Errorf("B: %d %v, want 2 cached", n, ok)
	}
	// A lookup that begins after the drop stores A.
	missing, _, gen = c.lookup([]string{"A"}, "", new([]*inventory.Balance))
	c.store(gen, missing, figures("A", 3), "", nil)
	if n, ok := cachedOnHand(t, c, "A"); !ok || n != 3 {
		t.Errorf("A after a later lookup: %d %v, want 3 cached", n, ok)
	}
	// An SKU without balances is cached as nothing.
	missing, _, gen = c.lookup([]string{"NONE"}, "", new([]*inventory.Balance))
	c.store(gen, missing, nil, "", nil)
	if n, ok := cachedOnHand(t, c, "NONE"); !ok || n != 0 {
		t.Errorf("an SKU without balances: %d %v, want 0 cached", n, ok)
	}
	if len(c.inflight) != 0 {
		t.Errorf("lookups still in flight: %v", c.inflight)
	}
	// With no lookup reading, a drop leaves nothing behind, not even a
	// tombstone (of a SKU never cached either).
	c.drop([]string{"A", "B", "NONE", "NEVER"})
	if len(c.entries) != 0 || c.tombs != 0 || c.held != 0 {
		t.Errorf("after dropping everything: entries %v, %d tombstones, %d balances held", c.entries, c.tombs, c.held)
	}
}

// Off, the cache stores and answers nothing; a flush, on or off, stops a
// lookup that began before it from storing.
func TestStockCacheFlush(t *testing.T) {
	c := newStockCache(100, false)
	missing, _, gen := c.lookup([]string{"A"}, "", new([]*inventory.Balance))
	c.store(gen, missing, figures("A", 1), "", nil)
	if _, ok := cachedOnHand(t, c, "A"); ok {
		t.Error("an off cache answered")
	}
	missing, _, gen = c.lookup([]string{"A"}, "", new([]*inventory.Balance))
	c.flush(true)
	c.store(gen, missing, figures("A", 1), "", nil)
	if _, ok := cachedOnHand(t, c, "A"); ok {
		t.Error("a lookup older than the flush stored its read")
	}
	missing, _, gen = c.lookup([]string{"A"}, "", new([]*inventory.Balance))
	c.store(gen, missing, figures("A", 1), "", nil)
	if _, ok := cachedOnHand(t, c, "A"); !ok {
		t.Error("nothing cached after the flush")
	}
	c.flush(false)
	if _, ok := cachedOnHand(t, c, "A"); ok {
		t.Error("answered after being turned off")
	}
}

// The cache holds at most its bound of balances, evicting to three
// quarters of it; an evicted SKU is a tombstone, so a lookup that began
// before the eviction does not store it again.
func TestStockCacheBound(t *testing.T) {
	c := newStockCache(100, true)
	for i := range 30 {
		sku := fmt.Sprint("S", i)
		missing, _, gen := c.lookup([]string{sku}, "", new([]*inventory.Balance))
		c.store(gen, missing, figures(sku, 1, 1, 1, 1), "", nil)
		if c.held > c.max {
			t.Fatalf("after %d SKUs: %d balances held, bound %d", i+1, c.held, c.max)
		}
	}
	held := 0
	for _, e := range c.entries {
		if e.valid {
			held += int(e.n)
		}
	}
	if held != c.held || held > 100 || held < 50 {
		t.Errorf("held %d (counted %d), want between 50 and 100", c.held, held)
	}
	// A lookup begins; another stores the SKU; everything is evicted.
	old, _, oldGen := c.lookup([]string{"E"}, "", new([]*inventory.Balance))
	missing, _, gen := c.lookup([]string{"E"}, "", new([]*inventory.Balance))
	c.store(gen, missing, figures("E", 1), "", nil)
	c.max = 0
	c.evict()
	c.max = 100
	if c.held != 0 {
		t.Fatalf("%d balances held after evicting everything", c.held)
	}
	c.store(oldGen, old, figures("E", 9), "", nil)
	if _, ok := cachedOnHand(t, c, "E"); ok {
		t.Error("a lookup older than an eviction stored its read")
	}
	// Tombstones go once no lookup that began before them is reading.
	c.prune()
	for sku, e := range c.entries {
		if !e.valid {
			t.Errorf("tombstone of %s left after prune with nothing in flight", sku)
		}
	}
	if c.tombs != 0 {
		t.Errorf("%d tombstones counted", c.tombs)
	}
}

func TestStockNotice(t *testing.T) {
	if got := stockNotice("n1", []string{"A", "B"}); got != "n1\nA\x1fB" {
		t.Errorf("notice %q", got)
	}
	long := make([]string, 2000)
	for i := range long {
		long[i] = fmt.Sprint("SKU-", i)
	}
	if got := stockNotice("n1", long); got != "n1\n*" {
		t.Errorf("notice of 2,000 SKUs: %.40q, want a flush", got)
	}
	s := &Store{stock: newStockCache(100, true), node: "me"}
	missing, _, gen := s.stock.lookup([]string{"A", "B"}, "", new([]*inventory.Balance))
	s.stock.store(gen, missing, append(figures("A", 1), figures("B", 1)...), "", nil)
	s.StockNotified("me\nA")
	if _, ok := cachedOnHand(t, s.stock, "A"); !ok {
		t.Error("its own notice dropped A")
	}
	s.StockNotified("other\nA")
	if _, ok := cachedOnHand(t, s.stock, "A"); ok {
		t.Error("another node's notice did not drop A")
	}
	s.StockNotified("other\n*")
	if _, ok := cachedOnHand(t, s.stock, "B"); ok {
		t.Error("a flush notice left B")
	}
}

// API keys found are kept for keyTTL, until keys are written (keysKey), or
// the cache is flushed; a lookup older than such a drop stores nothing.
func TestStockCacheKeys(t *testing.T) {
	c := newStockCache(100, true)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	k := &auth.APIKey{ID: "k1", Role: auth.RoleAdmin}
	cached := func(at time.Time) bool {
		got, gen := c.key("h1", at)
		if got == nil {
			c.storeKey(gen, "h1", nil, at)
			return false
		}
		if got == k || got.ID != "k1" {
			t.Fatalf("cached key %p %+v, want a copy of %p", got, got, k)
		}
		return true
	}
	_, gen := c.key("h1", now)
	c.storeKey(gen, "h1", k, now)
	if !cached(now.Add(keyTTL - time.Second)) {
		t.Fatal("a key found was not cached")
	}
	if cached(now.Add(keyTTL)) {
		t.Error("a key answered from the cache after keyTTL")
	}
	_, gen = c.key("h1", now)
	c.drop([]string{keysKey}) // a key is written while the lookup reads
	c.storeKey(gen, "h1", k, now)
	if cached(now) {
		t.Error("a lookup older than a key write stored its key")
	}
	_, gen = c.key("h1", now)
	c.storeKey(gen, "h1", k, now)
	c.drop([]string{keysKey})
	if cached(now) {
		t.Error("a key write left the keys cached")
	}
	_, gen = c.key("nope", now)
	c.storeKey(gen, "nope", nil, now)
	if len(c.keys) != 0 || len(c.inflight) != 0 {
		t.Errorf("keys %v, in flight %v after a miss", c.keys, c.inflight)
	}
	_, gen = c.key("h1", now)
	c.storeKey(gen, "h1", k, now)
	c.flush(false)
	if cached(now) {
		t.Error("an off cache answered a key")
	}
}

// cachedTableWrite matches SQL that writes a table the stock cache holds
// figures of.
// The connectors' UPDATEs change only their polling state and job ids,
// which intake's cached copy leaves out.
var cachedTableWrite = regexp.MustCompile(`(?i)\b((insert\s+into|update|delete\s+from)\s+(stock_balances|locations|channels|api_keys|routing_rule_sets)|(insert\s+into|delete\s+from)\s+channel_integrations)\b`)

// sqlBuilders return SQL that writes a cached table without running it;
// every caller that runs it touches first.
var sqlBuilders = map[string]string{
	"guardedReserve": "run by reserveOne and reserveSteps (and capturePipelined through oneStatement), which touch",
	"countBalance":   "run by countSteps and countPipelined, which touch",
}

// TestCachedTableWritesTouch: every function of the package that holds SQL
// writing a table the stock cache keeps (balances, locations, channels, API
// keys, rule sets, connectors) also calls touch or execConfig, so that a new write path cannot
// leave the cache stale unnoticed. The contract test
// (storetest.testAvailabilityAfterWrites) checks that the paths it knows
// do it right; this one finds the paths it does not know.
func TestCachedTableWritesTouch(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var writes []string
			touches := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING && cachedTableWrite.MatchString(n.Value) {
						writes = append(writes, cachedTableWrite.FindString(n.Value))
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "touch" || sel.Sel.Name == "execConfig") {
						touches = true
					}
				}
				return true
			})
			if len(writes) == 0 {
				continue
			}
			checked++
			if _, ok := sqlBuilders[fn.Name.Name]; ok || touches {
				continue
			}
			t.Errorf("%s: %s writes %q without touch or execConfig: the stock cache would not hear of it (stockcache.go)",
				fset.Position(fn.Pos()), fn.Name.Name, writes)
		}
	}
	if checked < 10 {
		t.Errorf("found %d functions writing cached tables, want the dozen or so there are: is the pattern still right?", checked)
	}
}

// TestStockCacheIntake: intake's configuration is kept only by a read
// that no configuration write, flush or switch-off overtook, and a
// configuration write drops it.
func TestStockCacheIntake(t *testing.T) {
	c := newStockCache(100, true)
	cfg := &intakeConfig{locations: []*inventory.Location{{Code: "leeds"}}}
	web := &channel.Channel{Code: "web"}
	if _, _, ok, _ := c.intakeLookup("web"); ok {
		t.Fatal("an empty cache had intake's configuration")
	}

	// A read overtaken by a configuration write stores nothing.
	_, _, _, gen := c.intakeLookup("web")
	c.drop([]string{configKey})
	c.storeIntake(gen, "web", web, cfg)
	if _, _, ok, _ := c.intakeLookup("web"); ok {
		t.Fatal("a read that started before a configuration write was kept")
	}

	// A read after it is kept, for its channel only.
	_, _, _, gen = c.intakeLookup("web")
	c.storeIntake(gen, "web", web, cfg)
	ch, got, ok, _ := c.intakeLookup("web")
	if !ok || ch != web || got != cfg {
		t.Fatalf("cached %v %v %v, want the channel and configuration stored", ch, got, ok)
	}
	if _, _, ok, _ := c.intakeLookup("pos"); ok {
		t.Fatal("another channel was answered from the cache")
	}

	// Stock changes leave it; a configuration write drops it.
	c.drop([]string{"A", keysKey})
	if _, _, ok, _ := c.intakeLookup("web"); !ok {
		t.Fatal("a stock change dropped intake's configuration")
	}
	c.drop([]string{"A", configKey})
	if _, _, ok, _ := c.intakeLookup("web"); ok {
		t.Fatal("a configuration write left intake's configuration")
	}

	// Overtaken by a flush; off.
	_, _, _, gen = c.intakeLookup("web")
	c.flush(true)
	c.storeIntake(gen, "web", web, cfg)
	if _, _, ok, _ := c.intakeLookup("web"); ok {
		t.Fatal("a read that started before a flush was kept")
	}
	c.flush(false)
	_, _, _, gen = c.intakeLookup("web")
	c.storeIntake(gen, "web", web, cfg)
	if _, _, ok, _ := c.intakeLookup("web"); ok {
		t.Fatal("a cache switched off kept intake's configuration")
	}
}
