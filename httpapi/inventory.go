package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// Inventory: stock is a ledger of movements with a balance per (SKU,
// location). Clients move it with adjustments (a delta with a reason), set
// it with counts (an absolute figure, recorded as its difference), and
// compare it with a WMS/ERP/POS through snapshots, which produce
// reconciliation reports. Who may write where is the service's rule: a
// warehouse key only at its own location.

// adjustmentReason is the reason of an adjustment request: the subset of
// inventory.Reason a client may give, with its own enum in the document.
type adjustmentReason string

// adjustmentRequest is the body of POST /api/v1/inventory/adjustments.
type adjustmentRequest struct {
	Location  string           `json:"location" openapi:"required" doc:"The location's code."`
	SKU       string           `json:"sku" openapi:"required"`
	Delta     number           `json:"delta" openapi:"required" doc:"Signed change of on hand, never 0: positive for receive, return and transfer_in; negative for damage and transfer_out; either for adjust. A result below zero is refused."`
	Reason    adjustmentReason `json:"reason" openapi:"required"`
	Reference string           `json:"reference,omitempty" doc:"Your reference for the movement (a purchase order, a transfer id), at most 200 bytes."`
}

// adjustmentView is the answer to an adjustment: the new balance and the
// ledger row written.
type adjustmentView struct {
	Balance  balanceView        `json:"balance"`
	Movement inventory.Movement `json:"movement"`
}

// balanceView is a balance with what it can still promise.
type balanceView struct {
	inventory.Balance
	Available int64 `json:"available" doc:"on_hand − reserved − safety_stock, never below zero: what can still be promised."`
}

func newBalanceView(b *inventory.Balance) balanceView {
	return balanceView{Balance: *b, Available: b.Available()}
}

// countRequest is the body of PUT /api/v1/inventory/{location}/{sku}.
type countRequest struct {
	OnHand      number `json:"on_hand" openapi:"required" doc:"The units counted on hand, 0 or more."`
	SafetyStock number `json:"safety_stock,omitempty" doc:"Units held back from what is promised. Left out: unchanged."`
	Reference   string `json:"reference,omitempty" doc:"Your reference for the count, at most 200 bytes."`
}

// snapshotRequest is the body of POST /api/v1/inventory/snapshots.
type snapshotRequest struct {
	Location  string                 `json:"location" openapi:"required" doc:"The location counted."`
	Mode      inventory.SnapshotMode `json:"mode" openapi:"required" doc:"full: the items are the whole location, and a SKU Orderly holds there that the snapshot leaves out counts as 0. partial: only the SKUs listed are compared."`
	Apply     bool                   `json:"apply,omitempty" doc:"Correct the balances to the count through count movements. Default false: only report, change nothing."`
	CountedAt string                 `json:"counted_at,omitempty" format:"date-time" doc:"When the count was taken, RFC 3339. Movements Orderly recorded at or after it are carried forward instead of counted as drift."`
	Items     []snapshotItemRequest  `json:"items" openapi:"required" doc:"One entry per SKU; [] for an empty location."`
}

// snapshotItemRequest is one SKU of a snapshot.
type snapshotItemRequest struct {
	SKU    string `json:"sku" openapi:"required" doc:"A SKU code; one not in the catalogue is reported (cause unknown_sku) and never applied."`
	OnHand number `json:"on_hand" openapi:"required" doc:"The units counted, 0 or more."`
}

// reportSummaryView is a reconciliation report without its lines.
type reportSummaryView struct {
	ID         string                 `json:"id"`
	Location   string                 `json:"location"`
	Mode       inventory.SnapshotMode `json:"mode"`
	Applied    bool                   `json:"applied" doc:"Whether the corrections were applied to the balances."`
	CountedAt  *time.Time             `json:"counted_at,omitempty" doc:"When the count was taken, if the snapshot said."`
	Actor      string                 `json:"actor" doc:"Who sent the snapshot."`
	CreatedAt  time.Time              `json:"created_at"`
	SKUs       int                    `json:"skus" doc:"SKUs compared."`
	Drifted    int                    `json:"drifted" doc:"SKUs whose count differs from Orderly's on hand."`
	DriftUnits int64                  `json:"drift_units" doc:"Sum of |drift| over the lines."`
}

// reportView is a reconciliation report with its lines.
type reportView struct {
	reportSummaryView
	Lines []driftLineView `json:"lines" doc:"One line per SKU compared, by SKU."`
}

// driftLineView is one SKU of a report, with the correction applying it
// makes (or would make).
type driftLineView struct {
	inventory.DriftLine
	Correction int64 `json:"correction" doc:"counted + moved_since_count − expected: what applying the snapshot changes on hand by (never applied for unknown_sku)."`
}

func newReportSummary(r *inventory.Report) reportSummaryView {
	return reportSummaryView{ID: r.ID, Location: r.Location, Mode: r.Mode, Applied: r.Applied, CountedAt: r.CountedAt,
		Actor: r.Actor, CreatedAt: r.CreatedAt, SKUs: r.SKUs, Drifted: r.Drifted, DriftUnits: r.DriftUnits}
}

func newReportView(r *inventory.Report) reportView {
	v := reportView{reportSummaryView: newReportSummary(r), Lines: make([]driftLineView, len(r.Lines))}
	for i, l := range r.Lines {
		v.Lines[i] = driftLineView{DriftLine: l, Correction: l.Correction()}
	}
	return v
}

// balanceList is a page of balances.
type balanceList struct {
	Items      []balanceView `json:"items"`
	NextCursor *string       `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// movementList is a page of one balance's ledger.
type movementList struct {
	Items      []*inventory.Movement `json:"items" doc:"Movements, newest first."`
	NextCursor *string               `json:"next_cursor" doc:"Pass as cursor to get the next (older) page; null on the last page."`
}

// availabilityList answers an availability request.
type availabilityList struct {
	Items []service.SKUAvailability `json:"items" doc:"One entry per SKU asked for, in the order asked; an unknown SKU has nothing available."`
}

// reportList is a page of reconciliation reports.
type reportList struct {
	Items      []reportSummaryView `json:"items" doc:"Reports, newest first, without their lines."`
	NextCursor *string             `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) adjustStock(w http.ResponseWriter, r *http.Request) error {
	var req adjustmentRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var p orderly.Problems
	delta := req.Delta.int64(&p, "delta", "units")
	if err := p.Err(); err != nil {
		return err
	}
	bal, m, err := a.svc.AdjustStock(r.Context(), principal(r), service.Adjustment{Location: req.Location, SKU: req.SKU,
		Delta: delta, Reason: inventory.Reason(req.Reason), Reference: req.Reference})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, adjustmentView{Balance: newBalanceView(bal), Movement: *m})
}

func (a *api) countStock(w http.ResponseWriter, r *http.Request) error {
	var req countRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var p orderly.Problems
	c := service.Count{Location: r.PathValue("location"), SKU: r.PathValue("sku"), Reference: req.Reference}
	if !req.OnHand.present() {
		p.Add("on_hand", "is required")
	}
	c.OnHand = req.OnHand.int64(&p, "on_hand", "units")
	if req.SafetyStock.present() {
		v := req.SafetyStock.int64(&p, "safety_stock", "units")
		c.SafetyStock = &v
	}
	if err := p.Err(); err != nil {
		return err
	}
	bal, err := a.svc.CountStock(r.Context(), principal(r), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newBalanceView(bal))
}

func (a *api) submitSnapshot(w http.ResponseWriter, r *http.Request) error {
	var req snapshotRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	// Refuse absurd sizes before converting anything, as for order lines.
	if len(req.Items) > service.MaxSnapshotItems {
		return orderly.Invalid("items", "has more than %d items", service.MaxSnapshotItems)
	}
	var p orderly.Problems
	sn := service.Snapshot{Location: req.Location, Mode: req.Mode, Apply: req.Apply,
		Items: make([]service.SnapshotItem, len(req.Items))}
	if req.Items == nil {
		p.Add("items", "is required; send [] for an empty location")
	}
	if req.CountedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, req.CountedAt)
		if err != nil {
			p.Add("counted_at", "must be an RFC 3339 date-time such as 2025-01-31T09:00:00Z")
		} else {
			t = t.UTC().Truncate(time.Microsecond)
			sn.CountedAt = &t
		}
	}
	for i, it := range req.Items {
		f := "items[" + strconv.Itoa(i) + "]."
		if !it.OnHand.present() {
			p.Add(f+"on_hand", "is required")
		}
		sn.Items[i] = service.SnapshotItem{SKU: it.SKU, OnHand: it.OnHand.int64(&p, f+"on_hand", "units")}
	}
	if err := p.Err(); err != nil {
		return err
	}
	rep, err := a.svc.SubmitSnapshot(r.Context(), principal(r), sn)
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(reportsPath, rep.ID))
	return writeJSON(w, http.StatusCreated, newReportView(rep))
}

// reportsPath is the collection of reconciliation reports.
const reportsPath = "/api/v1/reconciliation/reports"

func (a *api) listBalances(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "location", "sku", "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	params := store.BalanceListParams{Location: q.Get("location"), SKU: q.Get("sku"), Limit: limitParam(q, &p)}
	orderly.CheckText(&p, "location", params.Location, 64)
	orderly.CheckText(&p, "sku", params.SKU, 100)
	if c := decodeCursor(q, "inventory", &p); c != "" {
		// Location codes hold no ':'; the SKU after it may.
		loc, sku, ok := strings.Cut(c, ":")
		if !ok || loc == "" || sku == "" {
			p.Add("cursor", "is not a cursor of this list; pass next_cursor from the previous page unchanged")
		}
		params.AfterLocation, params.AfterSKU = loc, sku
	}
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.ListBalances(r.Context(), principal(r), params)
	if err != nil {
		return err
	}
	out := balanceList{Items: make([]balanceView, len(items))}
	for i, b := range items {
		out.Items[i] = newBalanceView(b)
	}
	if next != nil {
		out.NextCursor = encodeCursor("inventory", next.AfterLocation+":"+next.AfterSKU)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) ledger(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	params := store.MovementListParams{Location: r.PathValue("location"), SKU: r.PathValue("sku"), Limit: limitParam(q, &p)}
	// The cursor belongs to this balance's ledger, not any other.
	list := "ledger:" + params.Location + ":" + params.SKU
	if c := decodeCursor(q, list, &p); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			p.Add("cursor", "is not a cursor of this list; pass next_cursor from the previous page unchanged")
		}
		params.BeforeSeq = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.Ledger(r.Context(), principal(r), params)
	if err != nil {
		return err
	}
	out := movementList{Items: nonNil(items)}
	if next > 0 {
		out.NextCursor = encodeCursor(list, strconv.FormatInt(next, 10))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) availability(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "sku*", "channel"); err != nil {
		return err
	}
	skus := q["sku"]
	var p orderly.Problems
	for _, s := range skus {
		if !inventory.ValidSKUCode(s) {
			p.Add("sku", "%q is not a valid SKU code", s)
			break
		}
	}
	orderly.CheckText(&p, "channel", q.Get("channel"), 64)
	if err := p.Err(); err != nil {
		return err
	}
	items, err := a.svc.Availability(r.Context(), principal(r), skus, q.Get("channel"))
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Locations = nonNil(items[i].Locations)
	}
	return writeAvailability(w, nonNil(items))
}

func (a *api) listReports(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "location", "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	location := q.Get("location")
	orderly.CheckText(&p, "location", location, 64)
	lp := store.ListParams{Limit: limitParam(q, &p), After: decodeCursor(q, "reports", &p)}
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.ListReports(r.Context(), principal(r), location, lp)
	if err != nil {
		return err
	}
	out := reportList{Items: make([]reportSummaryView, len(items)), NextCursor: encodeCursor("reports", next)}
	for i, rep := range items {
		out.Items[i] = newReportSummary(rep)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) getReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.GetReport(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newReportView(rep))
}
