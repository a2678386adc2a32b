package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

type inventoryData struct {
	SKU          string
	Availability *service.SKUAvailability
	Locations    []*inventory.Location
	Reasons      []inventory.Reason
	// Location pre-selects the adjustment form's location.
	Location string
}

// inventory shows a SKU's availability across locations (when one is
// asked for), the locations, and the adjustment form.
func (c *console) inventory(w http.ResponseWriter, r *http.Request, v *viewer) {
	d := inventoryData{SKU: strings.TrimSpace(r.URL.Query().Get("sku")), Reasons: inventory.AdjustmentReasons, Location: v.Principal.Location}
	ctx := r.Context()
	var err error
	if d.Locations, _, err = c.svc.ListLocations(ctx, v.Principal, store.ListParams{Limit: store.MaxLimit}); err != nil {
		c.fail(w, r, v, err)
		return
	}
	if d.SKU != "" {
		av, err := c.svc.Availability(ctx, v.Principal, []string{d.SKU}, "")
		if err != nil {
			c.fail(w, r, v, err)
			return
		}
		if len(av) == 1 {
			d.Availability = &av[0]
		}
	}
	c.render(w, r, http.StatusOK, "inventory", view{V: v, Title: "Inventory", Nav: "inventory", Data: d})
}

type stockData struct {
	Location *inventory.Location
	Balances []*inventory.Balance
	NextURL  string
}

// locationStock lists one location's balances by SKU, a page at a time.
func (c *console) locationStock(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	loc, err := c.svc.GetLocation(ctx, v.Principal, r.PathValue("location"))
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	d := stockData{Location: loc}
	p := store.BalanceListParams{Location: loc.Code, Limit: 100}
	if after := r.URL.Query().Get("after"); after != "" {
		p.AfterLocation, p.AfterSKU = loc.Code, after
	}
	bs, next, err := c.svc.ListBalances(ctx, v.Principal, p)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	d.Balances = bs
	if next != nil {
		d.NextURL = "/inventory/locations/" + url.PathEscape(loc.Code) + queryString("after", next.AfterSKU)
	}
	c.render(w, r, http.StatusOK, "stock", view{V: v, Title: "Stock · " + loc.Name, Nav: "inventory", Data: d})
}

type ledgerData struct {
	Location  string
	SKU       string
	Balance   *inventory.Balance
	Movements []*inventory.Movement
	NextURL   string
	Reasons   []inventory.Reason
}

// ledger shows the movements of one SKU at one location, newest first,
// with the adjustment form for that balance.
func (c *console) ledger(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	d := ledgerData{Location: r.PathValue("location"), SKU: r.PathValue("sku"), Reasons: inventory.AdjustmentReasons}
	p := store.MovementListParams{Location: d.Location, SKU: d.SKU, Limit: 100}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			c.fail(w, r, v, orderly.Invalid("before", "is not a ledger sequence number"))
			return
		}
		p.BeforeSeq = n
	}
	bs, _, err := c.svc.ListBalances(ctx, v.Principal, store.BalanceListParams{Location: d.Location, SKU: d.SKU, Limit: 1})
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	if len(bs) == 1 {
		d.Balance = bs[0]
	}
	ms, next, err := c.svc.Ledger(ctx, v.Principal, p)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	d.Movements = ms
	if next > 0 {
		d.NextURL = "/inventory/locations/" + url.PathEscape(d.Location) + "/" + url.PathEscape(d.SKU) + queryString("before", strconv.FormatInt(next, 10))
	}
	c.render(w, r, http.StatusOK, "ledger", view{V: v, Title: "Ledger · " + d.SKU + " at " + d.Location, Nav: "inventory",
		Flash: flash(r.URL.Query().Get("done")), Data: d})
}

// adjust records a stock adjustment and shows the balance's ledger.
func (c *console) adjust(w http.ResponseWriter, r *http.Request, v *viewer) {
	a := service.Adjustment{Location: strings.TrimSpace(r.PostFormValue("location")), SKU: strings.TrimSpace(r.PostFormValue("sku")),
		Reason: inventory.Reason(r.PostFormValue("reason")), Reference: strings.TrimSpace(r.PostFormValue("reference"))}
	delta, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("delta")), 10, 64)
	if err != nil {
		c.fail(w, r, v, orderly.Invalid("delta", "must be a whole number of units, negative to take stock away"))
		return
	}
	a.Delta = delta
	if _, _, err := c.svc.AdjustStock(r.Context(), v.Principal, a); err != nil {
		c.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/inventory/locations/"+url.PathEscape(a.Location)+"/"+url.PathEscape(a.SKU)+"?done=adjust", http.StatusSeeOther)
}

type reportsData struct {
	Location string
	Reports  []*inventory.Report
	NextURL  string
}

// reports lists reconciliation reports, newest first.
func (c *console) reports(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	d := reportsData{Location: q.Get("location")}
	rs, next, err := c.svc.ListReports(r.Context(), v.Principal, d.Location, store.ListParams{After: q.Get("after"), Limit: 50})
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	d.Reports = rs
	if next != "" {
		d.NextURL = "/inventory/reports" + queryString("location", d.Location, "after", next)
	}
	c.render(w, r, http.StatusOK, "reports", view{V: v, Title: "Reconciliation reports", Nav: "inventory", Data: d})
}

// report shows one reconciliation report with its drift lines.
func (c *console) report(w http.ResponseWriter, r *http.Request, v *viewer) {
	rep, err := c.svc.GetReport(r.Context(), v.Principal, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "report", view{V: v, Title: "Reconciliation report", Nav: "inventory", Data: rep})
}
