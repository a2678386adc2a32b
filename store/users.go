package store

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly/auth"
)

// UserQuerier is the console's users, their sessions and the record of
// failed sign-ins that throttles guessing. Everything lives in the
// database, so that every node behind a load balancer sees the same
// sessions and the same throttle.
type UserQuerier interface {
	// UserInsert stores a new user. A taken e-mail address is ErrDuplicate.
	UserInsert(ctx context.Context, u *auth.User) error
	// UserGet returns a user by id, or KindNotFound.
	UserGet(ctx context.Context, id string) (*auth.User, error)
	// UserGetByEmail returns a user by (normalised) e-mail, or KindNotFound.
	UserGetByEmail(ctx context.Context, email string) (*auth.User, error)
	// UserList returns every user ordered by e-mail.
	UserList(ctx context.Context) ([]*auth.User, error)
	// UserCount returns how many users exist.
	UserCount(ctx context.Context) (int, error)
	// UserSetTimeZone changes a user's time zone. An unknown id is
	// KindNotFound.
	UserSetTimeZone(ctx context.Context, id, tz string) error

	// SessionInsert stores a new session. A taken hash is ErrDuplicate.
	SessionInsert(ctx context.Context, s *auth.Session) error
	// SessionGet returns the session with the token hash if it has not
	// expired at now, or KindNotFound.
	SessionGet(ctx context.Context, hash string, now time.Time) (*auth.Session, error)
	// SessionTouch records a use of a session: its LastSeenAt and new
	// ExpiresAt. An unknown hash is KindNotFound.
	SessionTouch(ctx context.Context, hash string, lastSeen, expires time.Time) error
	// SessionDelete ends a session (signing out); an unknown hash is not
	// an error.
	SessionDelete(ctx context.Context, hash string) error
	// SessionPurge deletes sessions that expired before t and returns how
	// many.
	SessionPurge(ctx context.Context, before time.Time) (int64, error)

	// LoginFailureInsert records one failed sign-in for key (an e-mail
	// address or a client address) at at.
	LoginFailureInsert(ctx context.Context, key string, at time.Time) error
	// LoginFailureCount returns how many failures key has at or after since.
	LoginFailureCount(ctx context.Context, key string, since time.Time) (int, error)
	// LoginFailureClear forgets key's failures (after a good sign-in).
	LoginFailureClear(ctx context.Context, key string) error
	// LoginFailurePurge deletes failures before t and returns how many.
	LoginFailurePurge(ctx context.Context, before time.Time) (int64, error)
}
