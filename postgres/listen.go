package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// The stock cache's notices (sqlstore/stockcache.go): every node's
// transaction that writes balances sends the SKUs with its COMMIT on the
// schema's channel, and every node listens there on a connection of its
// own. The cache is on only while this node listens: until the LISTEN has
// succeeded, and from the moment the connection fails until it is
// listening again, lookups read the database.

// stockChannel is the notification channel of schema: one per schema, so
// that databases holding several Orderly schemas (the tests') do not
// trouble each other. Hashed because a channel name is an identifier of
// at most 63 bytes.
func stockChannel(schema string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(schema))
	return fmt.Sprintf("orderly_stock_%016x", h.Sum64())
}

// StockChannel returns the channel of the schema's stock notices.
func (s *Store) StockChannel() string { return s.channel }

// SetLogger sets where the store reports trouble that no caller sees
// (the stock listener's).
func (s *Store) SetLogger(l *slog.Logger) { s.logger.Store(l) }

// ListenerApplicationName begins the application_name of the stock
// listener's connection (the channel follows), so that an operator can
// tell it from the pool's in pg_stat_activity.
const ListenerApplicationName = "orderly stock listener"

// listenRetry is the pause before listening again after a failure.
const listenRetry = time.Second

// listen keeps a connection listening on the stock channel until ctx ends.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, channel string) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, channel)
		s.StockCacheOff()
		if ctx.Err() != nil {
			return
		}
		if l := s.logger.Load(); l != nil {
			l.Warn("postgres: not listening for other nodes' stock changes; availability reads the database until listening again",
				"err", err.Error(), "retry_in", listenRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce connects, listens, turns the cache on and hands every notice
// to the cache until the connection fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string) error {
	cfg.RuntimeParams["application_name"] = ListenerApplicationName + " " + channel
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	s.StockCacheOn()
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		s.StockNotified(n.Payload)
	}
}
