package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the console's users: creating them (an operator action,
// from the CLI), signing in with throttling, sessions stored in the
// database, and signing out. See docs/console.md.

// Sign-in throttling: at most MaxLoginFailures failed sign-ins per e-mail
// address, and MaxLoginFailuresPerClient per client address, within
// LoginWindow; beyond that sign-ins are refused, without checking the
// password, until the window has moved on. The failures are rows in the
// database, so every node counts the same.
const (
	MaxLoginFailures          = 5
	MaxLoginFailuresPerClient = 50
	LoginWindow               = 15 * time.Minute
)

// CodeLoginThrottled marks a sign-in refused because of too many failures
// (KindUnavailable: try again later).
const CodeLoginThrottled = "login_throttled"

// sessionTouchEvery is how stale a session's LastSeenAt may get before a
// use writes it again: a write per page view would be waste.
const sessionTouchEvery = time.Minute

// CreateUser makes a console user. An empty password makes a random one;
// the password is returned so it can be shown once. The location of a
// warehouse user must exist. It is an operator action (the CLI), so it
// takes no principal.
func (s *Service) CreateUser(ctx context.Context, email string, role auth.Role, location, password string) (*auth.User, string, error) {
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return nil, "", err
		}
	}
	u, err := auth.NewUser(email, role, location, password, s.clock.Now())
	if err != nil {
		return nil, "", err
	}
	if location != "" {
		if _, err := s.store.LocationGet(ctx, location); err != nil {
			if orderly.KindOf(err) == orderly.KindNotFound {
				return nil, "", orderly.Invalid("location", "unknown location %q", location)
			}
			return nil, "", err
		}
	}
	err = s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.UserInsert(ctx, u); err != nil {
			return duplicateAs(err, "email", "a user with e-mail %q already exists", u.Email)
		}
		return tx.EventInsert(ctx, s.event("user.created", "user", u.ID, "", orderly.SystemActor,
			map[string]any{"role": u.Role, "location": u.Location}))
	})
	if err != nil {
		return nil, "", err
	}
	return u, password, nil
}

// EnsureAdmin creates an admin user with a random password when there are
// no users at all (the first start of `orderly serve`) and returns its
// e-mail and password to be shown once; otherwise it returns "", "".
// Two nodes starting at once may both find no users: the e-mail is fixed,
// so only one insert succeeds and the other node prints nothing.
func (s *Service) EnsureAdmin(ctx context.Context, email string) (string, string, error) {
	n, err := s.store.UserCount(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	u, password, err := s.CreateUser(ctx, email, auth.RoleAdmin, "", "")
	if errors.Is(err, store.ErrDuplicate) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	return u.Email, password, nil
}

// Login checks an e-mail address and password and starts a session. It
// returns the user and the session token for the cookie. Every failure
// is the same KindUnauthorized error, whether the address is unknown, the
// password wrong or the user disabled; too many recent failures are
// KindUnavailable with code CodeLoginThrottled. client identifies the
// caller's address for per-client throttling ("" skips that count).
func (s *Service) Login(ctx context.Context, email, password, client string) (*auth.User, string, error) {
	email = auth.NormalizeEmail(email)
	now := s.clock.Now()
	since := now.Add(-LoginWindow)
	keys := []string{"email:" + email}
	limits := []int{MaxLoginFailures}
	if client != "" {
		keys = append(keys, "client:"+client)
		limits = append(limits, MaxLoginFailuresPerClient)
	}
	for i, k := range keys {
		n, err := s.store.LoginFailureCount(ctx, k, since)
		if err != nil {
			return nil, "", err
		}
		if n >= limits[i] {
			kind, _, _ := strings.Cut(k, ":") // never the address itself: no PII in logs
			s.log.WarnContext(ctx, "sign-in throttled", "by", kind)
			return nil, "", &orderly.Error{Kind: orderly.KindUnavailable, Code: CodeLoginThrottled,
				Message: fmt.Sprintf("too many failed sign-ins; try again in %d minutes", int(LoginWindow.Minutes()))}
		}
	}
	unauthorized := orderly.Errorf(orderly.KindUnauthorized, "wrong e-mail address or password")
	u, err := s.store.UserGetByEmail(ctx, email)
	if err != nil && orderly.KindOf(err) != orderly.KindNotFound {
		return nil, "", err
	}
	hash := auth.DummyPasswordHash()
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.CheckPassword(hash, password) || u == nil || u.DisabledAt != nil {
		for _, k := range keys {
			if err := s.store.LoginFailureInsert(ctx, k, now); err != nil {
				return nil, "", err
			}
		}
		return nil, "", unauthorized
	}
	if err := s.store.LoginFailureClear(ctx, keys[0]); err != nil {
		return nil, "", err
	}
	// A new session, with a new token, at every sign-in: a session id
	// planted before sign-in (fixation) is never promoted.
	sess, token, err := auth.NewSession(u.ID, now)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.SessionInsert(ctx, sess); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID, "role", u.Role)
	return u, token, nil
}

// SessionUser returns the user of a live session token, extending the
// session. An unknown, expired or ended session, or a disabled user, is
// KindUnauthorized.
func (s *Service) SessionUser(ctx context.Context, token string) (*auth.User, error) {
	unauthorized := orderly.Errorf(orderly.KindUnauthorized, "not signed in")
	if token == "" || len(token) > 100 {
		return nil, unauthorized
	}
	now := s.clock.Now()
	sess, err := s.store.SessionGet(ctx, auth.HashToken(token), now)
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, unauthorized
		}
		return nil, err
	}
	u, err := s.store.UserGet(ctx, sess.UserID)
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, unauthorized
		}
		return nil, err
	}
	if u.DisabledAt != nil {
		return nil, unauthorized
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.store.SessionTouch(ctx, sess.Hash, now, sess.Extend(now)); err != nil && orderly.KindOf(err) != orderly.KindNotFound {
			return nil, err
		}
	}
	return u, nil
}

// Logout ends the session of token; an unknown one is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.SessionDelete(ctx, auth.HashToken(token))
}

// SetTimeZone changes the time zone the console shows a user's times in.
// An unknown zone name is KindInvalid (field time_zone).
func (s *Service) SetTimeZone(ctx context.Context, u *auth.User, tz string) error {
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || len(tz) > 64 {
			return orderly.Invalid("time_zone", "unknown time zone %q", tz)
		}
	}
	return s.store.UserSetTimeZone(ctx, u.ID, tz)
}

// PurgeSessions deletes expired sessions and sign-in failures older than
// the throttling window.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	n, err := s.store.SessionPurge(ctx, now)
	if err != nil {
		return 0, err
	}
	m, err := s.store.LoginFailurePurge(ctx, now.Add(-LoginWindow))
	return n + m, err
}
