package storetest

import (
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// consoleTests are the contract tests of store/users.go and
// store/console.go, run by Exercise.
var consoleTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Users", testUsers},
	{"Sessions", testSessions},
	{"LoginFailures", testLoginFailures},
	{"OrderListBackordered", testOrderListBackordered},
	{"ConsoleCounts", testConsoleCounts},
	{"LocationSLAs", testLocationSLAs},
}

// fakeHash is shaped like a password hash; the store does not look inside.
const fakeHash = "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA" //nolint:gosec // a made-up hash of nothing

func newUser(email string, role auth.Role, location string) *auth.User {
	return &auth.User{ID: orderly.NewID(), Email: email, Role: role, Location: location, TimeZone: "",
		PasswordHash: fakeHash, CreatedAt: T0}
}

func testUsers(t *testing.T, s store.Store) {
	n, err := s.UserCount(ctx)
	ok(t, "count empty", err)
	equal(t, "count empty", n, 0)

	ok(t, "insert location", s.LocationInsert(ctx, newLocation("wh-1", nil, nil)))
	b := newUser("bob@example.com", auth.RoleWarehouse, "wh-1")
	a := newUser("ada@example.com", auth.RoleAdmin, "")
	ok(t, "insert b", s.UserInsert(ctx, b))
	ok(t, "insert a", s.UserInsert(ctx, a))
	wantIs(t, "duplicate e-mail", s.UserInsert(ctx, newUser("ada@example.com", auth.RoleViewer, "")), store.ErrDuplicate)

	got, err := s.UserGet(ctx, b.ID)
	ok(t, "get", err)
	equal(t, "user", got, b)
	got, err = s.UserGetByEmail(ctx, "ada@example.com")
	ok(t, "get by e-mail", err)
	equal(t, "user by e-mail", got, a)
	_, err = s.UserGetByEmail(ctx, "nobody@example.com")
	wantKind(t, "get unknown e-mail", err, orderly.KindNotFound)
	_, err = s.UserGet(ctx, orderly.NewID())
	wantKind(t, "get unknown id", err, orderly.KindNotFound)

	list, err := s.UserList(ctx)
	ok(t, "list", err)
	equal(t, "list", list, []*auth.User{a, b})
	n, err = s.UserCount(ctx)
	ok(t, "count", err)
	equal(t, "count", n, 2)

	ok(t, "set time zone", s.UserSetTimeZone(ctx, a.ID, "Europe/London"))
	got, err = s.UserGet(ctx, a.ID)
	ok(t, "get after time zone", err)
	equal(t, "time zone", got.TimeZone, "Europe/London")
	wantKind(t, "time zone of unknown", s.UserSetTimeZone(ctx, orderly.NewID(), "UTC"), orderly.KindNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	u := newUser("ada@example.com", auth.RoleAgent, "")
	ok(t, "insert user", s.UserInsert(ctx, u))
	sess, token, err := auth.NewSession(u.ID, T0)
	ok(t, "new session", err)
	if sess.Hash == token || sess.Hash != auth.HashToken(token) {
		t.Fatalf("session hash %q is not the hash of its token", sess.Hash)
	}
	ok(t, "insert", s.SessionInsert(ctx, sess))
	wantIs(t, "duplicate", s.SessionInsert(ctx, sess), store.ErrDuplicate)

	got, err := s.SessionGet(ctx, sess.Hash, at(1))
	ok(t, "get", err)
	equal(t, "session", got, sess)
	_, err = s.SessionGet(ctx, token, at(1))
	wantKind(t, "get by the token itself", err, orderly.KindNotFound)
	_, err = s.SessionGet(ctx, sess.Hash, sess.ExpiresAt)
	wantKind(t, "get at expiry", err, orderly.KindNotFound)

	later := sess.ExpiresAt.Add(time.Hour)
	ok(t, "touch", s.SessionTouch(ctx, sess.Hash, at(30), later))
	got, err = s.SessionGet(ctx, sess.Hash, sess.ExpiresAt)
	ok(t, "get after touch", err)
	equal(t, "touched", []time.Time{got.LastSeenAt, got.ExpiresAt}, []time.Time{at(30), later})
	wantKind(t, "touch unknown", s.SessionTouch(ctx, "nope", at(1), at(2)), orderly.KindNotFound)

	old, _, err := auth.NewSession(u.ID, at(-1000))
	ok(t, "new old session", err)
	ok(t, "insert old", s.SessionInsert(ctx, old))
	n, err := s.SessionPurge(ctx, T0)
	ok(t, "purge", err)
	equal(t, "purged", n, int64(1))
	_, err = s.SessionGet(ctx, sess.Hash, at(1))
	ok(t, "live session survives purge", err)

	ok(t, "delete", s.SessionDelete(ctx, sess.Hash))
	_, err = s.SessionGet(ctx, sess.Hash, at(1))
	wantKind(t, "get deleted", err, orderly.KindNotFound)
	ok(t, "delete again", s.SessionDelete(ctx, sess.Hash))
}

func testLoginFailures(t *testing.T, s store.Store) {
	for i := range 3 {
		ok(t, "insert", s.LoginFailureInsert(ctx, "email:ada@example.com", at(i)))
	}
	ok(t, "insert other", s.LoginFailureInsert(ctx, "ip:192.0.2.1", at(1)))
	n, err := s.LoginFailureCount(ctx, "email:ada@example.com", at(1))
	ok(t, "count", err)
	equal(t, "count since 1", n, 2)
	n, err = s.LoginFailureCount(ctx, "email:bob@example.com", T0)
	ok(t, "count unknown", err)
	equal(t, "count unknown", n, 0)

	purged, err := s.LoginFailurePurge(ctx, at(1))
	ok(t, "purge", err)
	equal(t, "purged", purged, int64(1))
	ok(t, "clear", s.LoginFailureClear(ctx, "email:ada@example.com"))
	n, err = s.LoginFailureCount(ctx, "email:ada@example.com", T0)
	ok(t, "count after clear", err)
	equal(t, "count after clear", n, 0)
	n, err = s.LoginFailureCount(ctx, "ip:192.0.2.1", T0)
	ok(t, "other key kept", err)
	equal(t, "other key", n, 1)
}

func testOrderListBackordered(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	short := NewOrder("web", "A")
	short.Lines[1].Backordered = 1
	mustInsertOrder(t, s, short)
	mustInsertOrder(t, s, NewOrder("web", "B"))
	got, err := s.OrderList(ctx, store.OrderListParams{Backordered: true})
	ok(t, "list", err)
	if len(got) != 1 || got[0].ID != short.ID {
		t.Fatalf("backordered list = %v, want only order A", show(got))
	}
}

func testConsoleCounts(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web", "pos")
	for i, ch := range []string{"web", "web", "pos"} {
		o := NewOrder(ch, "X"+string(rune('a'+i)))
		o.PlacedAt = at(i * 10)
		if i == 0 {
			o.Lines[0].Backordered = 2
			o.Lines[1].Backordered = 1
			ok(t, "hold", o.PutOnHold("insufficient_stock", T0))
		}
		if i == 2 {
			ok(t, "hold", o.PutOnHold("address check", T0))
		}
		mustInsertOrder(t, s, o)
	}
	byChannel, err := s.OrderCountByChannel(ctx, at(0), at(15))
	ok(t, "by channel", err)
	equal(t, "by channel", byChannel, map[string]int{"web": 2})
	holds, err := s.OrderHoldReasons(ctx)
	ok(t, "hold reasons", err)
	equal(t, "hold reasons", holds, map[string]int{"insufficient_stock": 1, "address check": 1})
	orders, units, err := s.OrderBackorders(ctx)
	ok(t, "backorders", err)
	equal(t, "backorders", []int64{int64(orders), units}, []int64{1, 3})
}

func testLocationSLAs(t *testing.T, s store.Store) {
	ok(t, "insert location", s.LocationInsert(ctx, newLocation("wh-1", nil, nil)))
	ok(t, "insert location", s.LocationInsert(ctx, newLocation("wh-2", nil, nil)))
	ok(t, "set", s.LocationSLASet(ctx, "wh-1", 60))
	ok(t, "set again", s.LocationSLASet(ctx, "wh-1", 90))
	wantKind(t, "unknown location", s.LocationSLASet(ctx, "nope", 10), orderly.KindInvalid)
	slas, err := s.LocationSLAList(ctx)
	ok(t, "list", err)
	equal(t, "slas", slas, map[string]int{"wh-1": 90})

	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "A"))
	var fos []*fulfilment.FulfilmentOrder
	for i, st := range []fulfilment.Status{fulfilment.StatusRequested, fulfilment.StatusShipped, fulfilment.StatusPacked, fulfilment.StatusAccepted} {
		loc := "wh-1"
		if i == 3 {
			loc = "wh-2"
		}
		fos = append(fos, &fulfilment.FulfilmentOrder{ID: orderly.NewID(), OrderID: o.ID, Location: loc, Status: st,
			Lines: []fulfilment.Line{}, CreatedAt: at(i), UpdatedAt: at(i), Version: 1})
	}
	ok(t, "insert fulfilment orders", s.FulfilmentOrderInsert(ctx, fos...))
	late, err := s.FulfilmentOrderListOpenBefore(ctx, "wh-1", at(3), 10)
	ok(t, "open before", err)
	ids := []string{}
	for _, f := range late {
		ids = append(ids, f.ID)
	}
	equal(t, "late", ids, []string{fos[0].ID, fos[2].ID})
	_ = order.StatusOpen
}
