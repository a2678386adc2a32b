package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/store"
)

// integrationTests are the contract tests of store/integrations.go, run by
// Exercise.
var integrationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ChannelConnector", testChannelConnector},
	{"PollLease", testPollLease},
	{"ChannelJobSwapRace", testChannelJobSwapRace},
	{"IntegrationRuns", testIntegrationRuns},
	{"StockPushPending", testStockPushPending},
	{"ChannelOrderLines", testChannelOrderLines},
	{"JobsOfKinds", testJobsOfKinds},
}

// testChannelConnector: configuration is created, replaced without losing
// the job state, listed, and refused for an unknown channel.
func testChannelConnector(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "shop", "woo")
	_, err := s.ChannelConnectorGet(ctx, "shop")
	wantKind(t, "get unconfigured", err, orderly.KindNotFound)
	c, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", BaseURL: "https://a.example",
		Settings: map[string]string{"access_token": "tok"}, Enabled: true, PollInterval: time.Minute, UpdatedAt: at(0)})
	ok(t, "put", err)
	if c.Kind != channel.KindShopify || c.Settings["access_token"] != "tok" || c.PollInterval != time.Minute || !c.Enabled || !c.CreatedAt.Equal(at(0)) || c.Watermark != nil {
		t.Errorf("put returned %+v", c)
	}
	swapped, err := s.ChannelJobSwap(ctx, "shop", store.SlotPoll, "", "job-1")
	ok(t, "swap", err)
	if !swapped {
		t.Error("swap from empty refused")
	}
	swapped, err = s.ChannelJobSwap(ctx, "shop", store.SlotPoll, "", "job-2")
	ok(t, "swap again", err)
	if swapped {
		t.Error("swap with a stale expectation succeeded")
	}
	c, err = s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", BaseURL: "https://b.example", Enabled: false,
		PollInterval: 2 * time.Minute, UpdatedAt: at(1)})
	ok(t, "replace", err)
	if c.BaseURL != "https://b.example" || len(c.Settings) != 0 || c.Enabled || c.PollJobID != "job-1" || !c.CreatedAt.Equal(at(0)) || !c.UpdatedAt.Equal(at(1)) {
		t.Errorf("replaced: %+v", c)
	}
	_, err = s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "nope", PollInterval: time.Minute, UpdatedAt: at(0)})
	wantKind(t, "unknown channel", err, orderly.KindInvalid)
	_, err = s.ChannelJobSwap(ctx, "shop", "other", "", "x")
	wantKind(t, "unknown slot", err, orderly.KindInvalid)
	list, err := s.ChannelConnectorList(ctx)
	ok(t, "list", err)
	if len(list) != 1 || list[0].Channel != "shop" {
		t.Errorf("list: %+v", list)
	}
}

// testPollLease: one owner at a time; a lapsed lease can be taken over,
// and the owner who lost it cannot save.
func testPollLease(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "woo")
	_, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "woo", Enabled: true, PollInterval: time.Minute, UpdatedAt: at(0)})
	ok(t, "put", err)
	_, took, err := s.PollBegin(ctx, "woo", "a", at(0), time.Minute)
	ok(t, "begin a", err)
	if !took {
		t.Fatal("a did not get a free lease")
	}
	_, took, err = s.PollBegin(ctx, "woo", "b", at(0), time.Minute)
	ok(t, "begin b", err)
	if took {
		t.Fatal("b took a held lease")
	}
	wm, high := at(5), at(6)
	ok(t, "save a", s.PollSave(ctx, "woo", "a", store.PollState{Watermark: &wm, Cursor: "2", High: &high}, at(0), time.Minute))
	// a's lease (extended to at(1)) lapses; b takes over and sees a's progress.
	c, took, err := s.PollBegin(ctx, "woo", "b", at(2), time.Minute)
	ok(t, "begin b later", err)
	if !took || c.Cursor != "2" || c.Watermark == nil || !c.Watermark.Equal(wm) || c.High == nil || !c.High.Equal(high) {
		t.Fatalf("b after a lapsed: took %v, %+v", took, c.PollState)
	}
	wantKind(t, "a saves after losing", s.PollSave(ctx, "woo", "a", store.PollState{}, at(2), time.Minute), orderly.KindConflict)
	ok(t, "release by a changes nothing", s.PollRelease(ctx, "woo", "a"))
	_, took, _ = s.PollBegin(ctx, "woo", "c", at(2), time.Minute)
	if took {
		t.Error("c took b's lease after a released")
	}
	ok(t, "release b", s.PollRelease(ctx, "woo", "b"))
	_, took, _ = s.PollBegin(ctx, "woo", "c", at(2), time.Minute)
	if !took {
		t.Error("c did not take a released lease")
	}
	_, _, err = s.PollBegin(ctx, "nope", "a", at(0), time.Minute)
	wantKind(t, "unconfigured", err, orderly.KindNotFound)
}

// testChannelJobSwapRace: of concurrent swaps from the same expectation,
// exactly one wins.
func testChannelJobSwapRace(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "shop")
	_, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", Enabled: true, PollInterval: time.Minute, UpdatedAt: at(0)})
	ok(t, "put", err)
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			id := string(rune('a' + i))
			err := s.InTx(ctx, func(tx store.Querier) error {
				won, err := tx.ChannelJobSwap(ctx, "shop", store.SlotStock, "", id)
				if won {
					wins <- id
				}
				return err
			})
			if err != nil {
				t.Errorf("swap %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	close(wins)
	if len(wins) != 1 {
		t.Errorf("%d swaps won, want 1", len(wins))
	}
}

// testIntegrationRuns: outcomes are counted per channel and kind since a
// time, keep the channel's last success and error, and are purged.
func testIntegrationRuns(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "shop")
	_, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", Enabled: true, PollInterval: time.Minute, UpdatedAt: at(0)})
	ok(t, "put", err)
	run := func(id, kind string, okay bool, n int) {
		r := &store.IntegrationRun{ID: id, Channel: "shop", Kind: kind, OK: okay, At: at(n)}
		if !okay {
			r.Error = "boom " + id
		}
		ok(t, "run "+id, s.IntegrationRunInsert(ctx, r))
	}
	run("1", "poll", true, 0)
	run("2", "poll", false, 10)
	run("3", "poll", true, 11)
	run("4", "push", false, 12)
	stats, err := s.IntegrationRunStats(ctx, at(5))
	ok(t, "stats", err)
	equal(t, "stats", stats, []store.IntegrationRunStat{
		{Channel: "shop", Kind: "poll", Attempts: 2, Failures: 1},
		{Channel: "shop", Kind: "push", Attempts: 1, Failures: 1},
	})
	c, err := s.ChannelConnectorGet(ctx, "shop")
	ok(t, "get", err)
	if c.LastSuccessAt == nil || !c.LastSuccessAt.Equal(at(11)) || c.LastError != "boom 4" || c.LastErrorAt == nil || !c.LastErrorAt.Equal(at(12)) {
		t.Errorf("last outcomes: %v %q %v", c.LastSuccessAt, c.LastError, c.LastErrorAt)
	}
	n, err := s.IntegrationRunPurge(ctx, at(11))
	ok(t, "purge", err)
	if n != 2 {
		t.Errorf("purged %d, want 2", n)
	}
}

// testStockPushPending: marks coalesce per SKU; what was marked again after
// it was read stays pending; a rolled-back mark leaves nothing.
func testStockPushPending(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "shop")
	_, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", Enabled: true, PollInterval: time.Minute, UpdatedAt: at(0)})
	ok(t, "put", err)
	slot, err := s.StockPushMark(ctx, "shop", []string{"A", "B"}, at(0))
	ok(t, "mark", err)
	if slot != "" {
		t.Errorf("slot %q, want empty", slot)
	}
	_, err = s.StockPushMark(ctx, "shop", []string{"B", "C"}, at(1))
	ok(t, "mark again", err)
	read, err := s.StockPushPending(ctx, "shop")
	ok(t, "pending", err)
	if len(read) != 3 || read[0].SKU != "A" || !read[1].MarkedAt.Equal(at(1)) {
		t.Fatalf("pending: %+v", read)
	}
	_, err = s.StockPushMark(ctx, "shop", []string{"C"}, at(2)) // after the read
	ok(t, "mark C", err)
	ok(t, "done", s.StockPushDone(ctx, "shop", read))
	left, err := s.StockPushPending(ctx, "shop")
	ok(t, "left", err)
	if len(left) != 1 || left[0].SKU != "C" {
		t.Errorf("left: %+v, want C", left)
	}
	boom := errors.New("boom")
	wantIs(t, "rollback", s.InTx(ctx, func(tx store.Querier) error {
		_, err := tx.StockPushMark(ctx, "shop", []string{"D"}, at(3))
		ok(t, "mark in tx", err)
		return boom
	}), boom)
	left, _ = s.StockPushPending(ctx, "shop")
	if len(left) != 1 {
		t.Errorf("a rolled-back mark stayed: %+v", left)
	}
	_, err = s.StockPushMark(ctx, "nope", []string{"A"}, at(0))
	wantKind(t, "unconfigured", err, orderly.KindNotFound)
}

// testChannelOrderLines: stored, replaced, read back.
func testChannelOrderLines(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "shop")
	_, err := s.ChannelOrderLinesGet(ctx, "shop", "1")
	wantKind(t, "missing", err, orderly.KindNotFound)
	ok(t, "put", s.ChannelOrderLinesPut(ctx, "shop", "1", []store.ChannelLine{{SKU: "A", Quantity: 1, ExternalID: "11"}}, at(0)))
	want := []store.ChannelLine{{SKU: "A", Quantity: 2, ExternalID: "11"}, {SKU: "B", Quantity: 1, ExternalID: "12"}}
	ok(t, "replace", s.ChannelOrderLinesPut(ctx, "shop", "1", want, at(1)))
	got, err := s.ChannelOrderLinesGet(ctx, "shop", "1")
	ok(t, "get", err)
	equal(t, "lines", got, want)
}

// testJobsOfKinds filters the queue by kind and state, oldest first.
func testJobsOfKinds(t *testing.T, s store.Store) {
	for i, k := range []string{"x", "y", "x"} {
		j := &store.Job{ID: "j" + string(rune('0'+i)), Kind: k, Args: []byte(`{}`), MaxAttempts: 1, RunAt: at(i), CreatedAt: at(i)}
		ok(t, "insert", s.JobInsert(ctx, j))
	}
	got, err := s.JobsOfKinds(ctx, []string{"x"}, []store.JobState{store.JobAvailable, store.JobRunning}, 10)
	ok(t, "list", err)
	if len(got) != 2 || got[0].ID != "j0" || got[1].ID != "j2" {
		t.Errorf("got %+v", got)
	}
	got, err = s.JobsOfKinds(ctx, []string{"x", "y"}, []store.JobState{store.JobDead}, 10)
	ok(t, "dead", err)
	if len(got) != 0 {
		t.Errorf("dead: %+v", got)
	}
	oldest, err := s.OutboxOldestPending(ctx, "dispatcher")
	ok(t, "outbox", err)
	if oldest != nil {
		t.Errorf("an empty log has a pending event at %v", oldest)
	}
}
