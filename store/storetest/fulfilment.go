package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the contract of fulfilment orders and shipments.

// newFulfilmentOrders returns the requested fulfilment orders of o over
// picks, created at minute n.
func newFulfilmentOrders(o *order.Order, n int, picks ...inventory.Pick) []*fulfilment.FulfilmentOrder {
	fos := fulfilment.FromPicks(o.ID, picks, at(n))
	for _, f := range fos {
		f.Status = fulfilment.StatusRequested
	}
	return fos
}

func testFulfilmentOrders(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, nil)
	mustInsertChannels(t, s, "web", "market")
	o1 := mustInsertOrder(t, s, NewOrder("web", "F1"))
	o2 := mustInsertOrder(t, s, NewOrder("market", "F2"))
	tee, mug := o1.Lines[0], o1.Lines[1]
	fos := newFulfilmentOrders(o1, 1, pk(tee.ID, tee.SKU, "leeds", 2), pk(mug.ID, mug.SKU, "york", 1))
	ok(t, "insert", s.FulfilmentOrderInsert(ctx, fos...))
	other := newFulfilmentOrders(o2, 2, pk(o2.Lines[0].ID, tee.SKU, "leeds", 1))
	ok(t, "insert other", s.FulfilmentOrderInsert(ctx, other...))

	got, err := s.FulfilmentOrderGet(ctx, fos[0].ID)
	ok(t, "get", err)
	equal(t, "fulfilment order", got, fos[0])
	_, err = s.FulfilmentOrderGet(ctx, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)
	wantIs(t, "duplicate", s.FulfilmentOrderInsert(ctx, fos[0]), store.ErrDuplicate)
	bad := newFulfilmentOrders(o1, 3, pk(tee.ID, tee.SKU, "nowhere", 1))
	wantKind(t, "unknown location", s.InTx(ctx, func(tx store.Querier) error {
		return tx.FulfilmentOrderInsert(ctx, bad...)
	}), orderly.KindInvalid)

	byOrder, err := s.FulfilmentOrderListByOrder(ctx, o1.ID)
	ok(t, "by order", err)
	equal(t, "by order", byOrder, fos)

	list := func(p store.FulfilmentOrderListParams) []string {
		t.Helper()
		got, err := s.FulfilmentOrderList(ctx, p)
		ok(t, "list", err)
		ids := []string{}
		for _, f := range got {
			ids = append(ids, f.ID)
		}
		return ids
	}
	equal(t, "all", list(store.FulfilmentOrderListParams{}), []string{fos[0].ID, fos[1].ID, other[0].ID})
	equal(t, "at leeds", list(store.FulfilmentOrderListParams{Location: "leeds"}), []string{fos[0].ID, other[0].ID})
	equal(t, "of market", list(store.FulfilmentOrderListParams{Channel: "market"}), []string{other[0].ID})
	equal(t, "page", list(store.FulfilmentOrderListParams{Limit: 1, After: fos[0].ID}), []string{fos[1].ID})

	// Update: status, lines, reason; the version moves on and a stale one
	// is refused.
	f := fos[0]
	ok(t, "accept", f.Accept(at(4)))
	_, err = f.Reject(fulfilment.RejectDamaged, []fulfilment.LineQuantity{{LineID: tee.ID, Quantity: 1}}, at(5))
	ok(t, "reject", err)
	ok(t, "update", s.FulfilmentOrderUpdate(ctx, f))
	if f.Version != 2 {
		t.Errorf("version %d after update, want 2", f.Version)
	}
	got, err = s.FulfilmentOrderGet(ctx, f.ID)
	ok(t, "get after update", err)
	equal(t, "updated", got, f)
	equal(t, "accepted", list(store.FulfilmentOrderListParams{Status: fulfilment.StatusAccepted}), []string{f.ID})
	stale := *got
	stale.Version = 1
	wantIs(t, "stale", s.FulfilmentOrderUpdate(ctx, &stale), store.ErrVersionConflict)
	stale.ID = "nope"
	wantKind(t, "update unknown", s.FulfilmentOrderUpdate(ctx, &stale), orderly.KindNotFound)
}

func testShipments(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, nil)
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "S1"))
	tee := o.Lines[0]
	fos := newFulfilmentOrders(o, 1, pk(tee.ID, tee.SKU, "leeds", 2))
	ok(t, "insert fulfilment order", s.FulfilmentOrderInsert(ctx, fos...))
	f := fos[0]
	ok(t, "accept", f.Accept(at(2)))
	lines, err := f.Ship([]fulfilment.LineQuantity{{LineID: tee.ID, Quantity: 1}}, at(3))
	ok(t, "ship", err)
	sh, err := fulfilment.NewShipment(f, lines, "dhl", "express", "JD0001", "https://labels.example/1.pdf", at(3))
	ok(t, "new shipment", err)
	ok(t, "insert", s.ShipmentInsert(ctx, sh))
	got, err := s.ShipmentGet(ctx, sh.ID)
	ok(t, "get", err)
	equal(t, "shipment", got, sh)
	wantIs(t, "duplicate", s.ShipmentInsert(ctx, sh), store.ErrDuplicate)
	_, err = s.ShipmentGet(ctx, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	_, err = sh.Record(fulfilment.TrackingEvent{Status: fulfilment.TrackingInTransit, At: at(10), Detail: "Leeds hub"}, at(11))
	ok(t, "record", err)
	_, err = sh.Record(fulfilment.TrackingEvent{Status: fulfilment.TrackingDelivered, At: at(60).Add(time.Microsecond)}, at(61))
	ok(t, "record delivered", err)
	ok(t, "update", s.ShipmentUpdate(ctx, sh))
	got, err = s.ShipmentGet(ctx, sh.ID)
	ok(t, "get after update", err)
	equal(t, "updated", got, sh)
	byOrder, err := s.ShipmentListByOrder(ctx, o.ID)
	ok(t, "by order", err)
	equal(t, "by order", byOrder, []*fulfilment.Shipment{sh})

	stale := *got
	stale.Version = 1
	wantIs(t, "stale", s.ShipmentUpdate(ctx, &stale), store.ErrVersionConflict)
}

func testLabels(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, nil)
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "L1"))
	fos := newFulfilmentOrders(o, 1, pk(o.Lines[0].ID, o.Lines[0].SKU, "leeds", 1))
	ok(t, "insert fulfilment order", s.FulfilmentOrderInsert(ctx, fos...))

	// A table-rate label keeps its PDF; an EasyPost one only its URL.
	pdf := &fulfilment.Label{FulfilmentOrderID: fos[0].ID, Carrier: "table-rate", Service: "standard",
		TrackingNumber: "OR00000000013", Amount: 450, Currency: "EUR", PDF: []byte("%PDF-1.3\x00\xff binary"), CreatedAt: at(2)}
	ok(t, "insert", s.LabelInsert(ctx, pdf))
	if pdf.ID == "" {
		t.Fatal("insert gave the label no id")
	}
	got, err := s.LabelGet(ctx, pdf.ID)
	ok(t, "get", err)
	equal(t, "label", got, pdf)
	url := &fulfilment.Label{ID: orderly.NewID(), FulfilmentOrderID: fos[0].ID, Carrier: "USPS", Service: "Priority",
		TrackingNumber: "9400100000000000000000", URL: "https://easypost.example/label.pdf", CarrierRef: "shp_1", CreatedAt: at(3)}
	ok(t, "insert without pdf", s.LabelInsert(ctx, url))
	got, err = s.LabelGet(ctx, url.ID)
	ok(t, "get without pdf", err)
	if len(got.PDF) != 0 {
		t.Errorf("pdf %q, want none", got.PDF)
	}
	got.PDF = nil
	equal(t, "label without pdf", got, url)

	wantIs(t, "duplicate", s.LabelInsert(ctx, pdf), store.ErrDuplicate)
	_, err = s.LabelGet(ctx, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)
	wantKind(t, "unknown fulfilment order", s.InTx(ctx, func(tx store.Querier) error {
		return tx.LabelInsert(ctx, &fulfilment.Label{FulfilmentOrderID: "nope", Carrier: "x", CreatedAt: at(4)})
	}), orderly.KindInvalid)
}

func testTrackingNumberNext(t *testing.T, s store.Store) {
	const workers, each = 4, 25
	var (
		mu   sync.Mutex
		seen = map[int64]bool{}
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for range each {
				n, err := s.TrackingNumberNext(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if n < 1 || seen[n] {
					t.Errorf("tracking number %d: not positive or given twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Errorf("%d numbers, want %d", len(seen), workers*each)
	}
}
