package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
)

func TestUsersAndSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()

		email, pw, err := b.svc.EnsureAdmin(ctx, "admin@example.com")
		if err != nil || email != "admin@example.com" || len(pw) < auth.MinPasswordLength {
			t.Fatalf("EnsureAdmin = %q, %q, %v", email, pw, err)
		}
		if e, p, err := b.svc.EnsureAdmin(ctx, "admin@example.com"); err != nil || e != "" || p != "" {
			t.Fatalf("second EnsureAdmin = %q, %q, %v; want nothing", e, p, err)
		}

		_, _, err = b.svc.CreateUser(ctx, "w@example.com", auth.RoleWarehouse, "nowhere", "")
		assertField(t, err, "location")
		_, _, err = b.svc.CreateUser(ctx, "c@example.com", auth.RoleChannel, "", "")
		assertField(t, err, "role")
		_, _, err = b.svc.CreateUser(ctx, "short@example.com", auth.RoleAgent, "", "too short")
		assertField(t, err, "password")
		u, given, err := b.svc.CreateUser(ctx, " Ada@Example.com ", auth.RoleAgent, "", "correct horse battery staple")
		if err != nil || given != "correct horse battery staple" || u.Email != "ada@example.com" {
			t.Fatalf("CreateUser = %+v, %q, %v", u, given, err)
		}
		if _, _, err = b.svc.CreateUser(ctx, "ADA@example.com", auth.RoleViewer, "", ""); orderly.KindOf(err) != orderly.KindConflict {
			t.Fatalf("a second user with the same e-mail in another case: %v, want a conflict", err)
		}
		if u.PasswordHash == given || !auth.CheckPassword(u.PasswordHash, given) || auth.CheckPassword(u.PasswordHash, "wrong") {
			t.Fatal("the stored hash does not check the password as it should")
		}

		_, _, err = b.svc.Login(ctx, "ada@example.com", "wrong password", "192.0.2.1")
		if orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Fatalf("wrong password: %v, want unauthorized", err)
		}
		_, _, err = b.svc.Login(ctx, "nobody@example.com", "correct horse battery staple", "192.0.2.1")
		if orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Fatalf("unknown user: %v, want unauthorized", err)
		}
		got, token1, err := b.svc.Login(ctx, "ADA@example.com", "correct horse battery staple", "192.0.2.1")
		if err != nil || got.ID != u.ID {
			t.Fatalf("login: %v", err)
		}
		_, token2, err := b.svc.Login(ctx, "ada@example.com", "correct horse battery staple", "192.0.2.1")
		if err != nil || token1 == token2 {
			t.Fatalf("a second sign-in must make a new session: %v", err)
		}
		who, err := b.svc.SessionUser(ctx, token1)
		if err != nil || who.ID != u.ID || who.Principal().Name != "user:ada@example.com" {
			t.Fatalf("SessionUser = %+v, %v", who, err)
		}
		if _, err := b.svc.SessionUser(ctx, auth.HashToken(token1)); orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Fatalf("the stored hash must not work as a token: %v", err)
		}

		// Sessions end when idle, are extended by use, and end at sign-out.
		b.clock.Advance(auth.SessionIdle - time.Minute)
		if _, err := b.svc.SessionUser(ctx, token1); err != nil {
			t.Fatalf("used within the idle time: %v", err)
		}
		b.clock.Advance(2 * time.Minute)
		if _, err := b.svc.SessionUser(ctx, token1); err != nil {
			t.Fatalf("the use extended the session: %v", err)
		}
		if _, err := b.svc.SessionUser(ctx, token2); orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Fatalf("the idle session must have expired: %v", err)
		}
		if err := b.svc.Logout(ctx, token1); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SessionUser(ctx, token1); orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Fatalf("signed out: %v", err)
		}
		if err := b.svc.SetTimeZone(ctx, u, "Mars/Olympus"); orderly.KindOf(err) != orderly.KindInvalid {
			t.Fatalf("unknown zone: %v", err)
		}
		if err := b.svc.SetTimeZone(ctx, u, "Europe/London"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoginThrottling(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		if _, _, err := b.svc.CreateUser(ctx, "ada@example.com", auth.RoleAgent, "", "correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, _, err := b.svc.Login(ctx, "ada@example.com", "guess", "192.0.2.1"); orderly.KindOf(err) != orderly.KindUnauthorized {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		_, _, err := b.svc.Login(ctx, "ada@example.com", "correct horse battery staple", "192.0.2.9")
		var oe *orderly.Error
		if !errors.As(err, &oe) || oe.Code != "login_throttled" {
			t.Fatalf("after five failures even the right password is refused: %v", err)
		}
		b.clock.Advance(16 * time.Minute)
		if _, _, err := b.svc.Login(ctx, "ada@example.com", "correct horse battery staple", "192.0.2.9"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		if n, err := b.svc.PurgeSessions(ctx); err != nil || n != 5 {
			t.Fatalf("purge = %d, %v; want the 5 old failures", n, err)
		}
	})
}
