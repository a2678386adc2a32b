package sqlstore

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
)

// This file holds the console's users, sessions and failed sign-ins
// (store.UserQuerier).

const userColumns = `id, email, role, location, time_zone, password_hash, created_at, disabled_at`

func scanUser(s scanner) (*auth.User, error) {
	var u auth.User
	var role string
	if err := s.Scan(&u.ID, &u.Email, &role, &u.Location, &u.TimeZone, &u.PasswordHash, &u.CreatedAt, &u.DisabledAt); err != nil {
		return nil, err
	}
	u.Role = auth.Role(role)
	return &u, nil
}

// UserInsert implements store.Querier.
func (q *Querier) UserInsert(ctx context.Context, u *auth.User) error {
	n, err := q.write.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, u.Email, string(u.Role), u.Location, u.TimeZone, u.PasswordHash, u.CreatedAt, u.DisabledAt)
	return inserted(n, err, "a user with e-mail %q already exists", u.Email)
}

// UserGet implements store.Querier.
func (q *Querier) UserGet(ctx context.Context, id string) (*auth.User, error) {
	u, err := scanUser(q.read.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "user %s not found", id)
	}
	return u, nil
}

// UserGetByEmail implements store.Querier.
func (q *Querier) UserGetByEmail(ctx context.Context, email string) (*auth.User, error) {
	u, err := scanUser(q.read.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if err != nil {
		return nil, renotFound(err, "user not found")
	}
	return u, nil
}

// UserList implements store.Querier.
func (q *Querier) UserList(ctx context.Context) ([]*auth.User, error) {
	rs, err := q.read.query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanUser)
}

// UserCount implements store.Querier.
func (q *Querier) UserCount(ctx context.Context) (int, error) {
	var n int64
	err := q.read.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return int(n), err
}

// UserSetTimeZone implements store.Querier.
func (q *Querier) UserSetTimeZone(ctx context.Context, id, tz string) error {
	n, err := q.write.exec(ctx, `UPDATE users SET time_zone = ? WHERE id = ?`, tz, id)
	if err == nil && n == 0 {
		return orderly.Errorf(orderly.KindNotFound, "user %s not found", id)
	}
	return err
}

// SessionInsert implements store.Querier.
func (q *Querier) SessionInsert(ctx context.Context, s *auth.Session) error {
	n, err := q.write.exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, s.Hash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	return inserted(n, err, "session already exists")
}

// SessionGet implements store.Querier.
func (q *Querier) SessionGet(ctx context.Context, hash string, now time.Time) (*auth.Session, error) {
	var s auth.Session
	err := q.read.queryRow(ctx, `SELECT hash, user_id, created_at, last_seen_at, expires_at FROM sessions
		WHERE hash = ? AND expires_at > ?`, hash, now).Scan(&s.Hash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if err != nil {
		return nil, renotFound(err, "session not found")
	}
	return &s, nil
}

// SessionTouch implements store.Querier.
func (q *Querier) SessionTouch(ctx context.Context, hash string, lastSeen, expires time.Time) error {
	n, err := q.write.exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE hash = ?`, lastSeen, expires, hash)
	if err == nil && n == 0 {
		return orderly.Errorf(orderly.KindNotFound, "session not found")
	}
	return err
}

// SessionDelete implements store.Querier.
func (q *Querier) SessionDelete(ctx context.Context, hash string) error {
	_, err := q.write.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

// SessionPurge implements store.Querier.
func (q *Querier) SessionPurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, before)
}

// LoginFailureInsert implements store.Querier.
func (q *Querier) LoginFailureInsert(ctx context.Context, key string, at time.Time) error {
	_, err := q.write.exec(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, key, at)
	return err
}

// LoginFailureCount implements store.Querier.
func (q *Querier) LoginFailureCount(ctx context.Context, key string, since time.Time) (int, error) {
	var n int64
	err := q.read.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?`, key, since).Scan(&n)
	return int(n), err
}

// LoginFailureClear implements store.Querier.
func (q *Querier) LoginFailureClear(ctx context.Context, key string) error {
	_, err := q.write.exec(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}

// LoginFailurePurge implements store.Querier.
func (q *Querier) LoginFailurePurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM login_failures WHERE at < ?`, before)
}
