package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
)

// StmtCacheSize bounds the prepared statements each connection keeps.
const StmtCacheSize = 256

// Through database/sql, modernc.org/sqlite prepares (parses and plans) every
// statement on every call and finalizes it afterwards: for the long INSERTs
// of an order that was about a quarter of the writer's time. cachingConn
// keeps each connection's statements prepared instead, in a least recently
// used cache keyed by the query text, and runs a statement again by binding
// its new arguments (modernc resets a prepared single statement after each
// use rather than finalizing it).
//
// database/sql lets one goroutine at a time use a connection, so the cache
// needs no locking of its own beyond the mutex that guards it against
// database/sql closing rows from a context watcher. The one case it must
// mind is a statement whose rows are still open — a query run again while
// its earlier result is being read, which a transaction permits: stepping
// the same SQLite statement would reset the first result. Such a call, like
// a multi-statement script (migrations), runs unprepared, as before.

// cachingConnector wraps modernc's connector so that every connection it
// opens caches its statements.
type cachingConnector struct {
	driver.Connector
	size int
}

// innerConn is every interface modernc's connections implement that
// database/sql looks for; cachingConn forwards them all.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	raw, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := raw.(innerConn)
	if !ok {
		_ = raw.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection %T lacks an expected interface", raw)
	}
	return &cachingConn{inner: inner, size: c.size, stmts: make(map[string]*list.Element, c.size)}, nil
}

// cachingConn is one connection with its statement cache.
type cachingConn struct {
	inner innerConn
	size  int

	mu    sync.Mutex
	stmts map[string]*list.Element // query → element of lru holding a *cachedStmt
	lru   list.List                // most recently used first
}

// cachedStmt is one prepared statement of the cache.
type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// open says rows read from stmt are open: the statement must not run
	// again, or be finalized, until they close.
	open bool
	// evicted says the statement has left the cache while its rows were
	// open: closing the rows finalizes it.
	evicted bool
}

// cacheable says whether a query may be kept prepared: one statement, not
// a script (modernc parses a script again on every run anyway).
func cacheable(query string) bool { return !strings.Contains(query, ";") }

// acquire returns the prepared statement of query, preparing and caching it
// if needed, or nil if the query must run unprepared (a script, or the
// statement's rows are open). forRows marks it open until release.
func (c *cachingConn) acquire(ctx context.Context, query string, forRows bool) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	if el, ok := c.stmts[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.open {
			c.mu.Unlock()
			return nil, nil
		}
		c.lru.MoveToFront(el)
		cs.open = forRows
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		_ = st.Close()
		return nil, nil
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		_ = st.Close()
		return nil, nil
	}
	cs := &cachedStmt{query: query, stmt: st, open: forRows}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stmts[query]; ok {
		// Cannot happen (one user at a time); run it unprepared to be safe.
		_ = st.Close()
		return nil, nil
	}
	c.stmts[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.size {
		el := c.lru.Back()
		old := el.Value.(*cachedStmt)
		c.lru.Remove(el)
		delete(c.stmts, old.query)
		if old.open {
			old.evicted = true
			continue
		}
		_ = old.stmt.Close()
	}
	return cs, nil
}

// release ends the use of a statement whose rows were open.
func (c *cachingConn) release(cs *cachedStmt) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.open = false
	if cs.evicted {
		return cs.stmt.Close()
	}
	return nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, query, false)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, query, true)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rs, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		_ = c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rs, c: c, cs: cs}, nil
}

// cachedRows releases its statement when it closes.
type cachedRows struct {
	driver.Rows
	c  *cachingConn
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.cs != nil {
		if rerr := r.c.release(r.cs); err == nil {
			err = rerr
		}
		r.cs = nil
	}
	return err
}

// Close finalizes every cached statement and closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.stmts)
	c.mu.Unlock()
	return c.inner.Close()
}

// The rest forwards to the driver's connection.

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) { return c.inner.Begin() } //nolint:staticcheck // forwarded for completeness
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}
func (c *cachingConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.inner.ResetSession(ctx)
}
func (c *cachingConn) IsValid() bool { return c.inner.IsValid() }

// Unwrap returns the driver's connection, as modernc asks of wrappers.
func (c *cachingConn) Unwrap() driver.Conn { return c.inner }
