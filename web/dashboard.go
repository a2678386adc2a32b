package web

import (
	"net/http"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/service"
)

// chart is a horizontal bar chart, laid out here and drawn as inline SVG
// by the template: no script, readable by screen readers through its
// title and the table beside it.
type chart struct {
	ID, Title string
	Bars      []bar
	Height    int
}

type bar struct {
	Label string
	N     int
	// Y is the bar's top; W its width in the 0–300 drawing area.
	Y int
	W int
}

const (
	barHeight = 26
	barGap    = 8
	barArea   = 300
)

func newChart(id, title string, counts []service.ChartBar) chart {
	c := chart{ID: id, Title: title}
	top := 0
	for _, b := range counts {
		top = max(top, b.N)
	}
	for i, b := range counts {
		w := 0
		if top > 0 {
			w = max(1, b.N*barArea/top)
		}
		c.Bars = append(c.Bars, bar{Label: b.Label, N: b.N, Y: i * (barHeight + barGap), W: w})
	}
	c.Height = max(barHeight, len(counts)*(barHeight+barGap))
	return c
}

type dashboardData struct {
	D        *service.Dashboard
	Channels chart
	Holds    chart
}

// dashboard is the first page: a warehouse user goes to their queue
// instead.
func (c *console) dashboard(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.Principal.Role == auth.RoleWarehouse {
		http.Redirect(w, r, "/queue/"+v.Principal.Location, http.StatusSeeOther)
		return
	}
	d, err := c.svc.Dashboard(r.Context(), v.Principal, v.TZ)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "dashboard", view{V: v, Title: "Dashboard", Nav: "dashboard", Data: dashboardData{D: d,
		Channels: newChart("chart-channels", "Today's orders by channel", d.OrdersByChannel),
		Holds:    newChart("chart-holds", "Orders on hold by reason", d.HoldsByReason)}})
}

// accountData is the account page.
type accountData struct {
	TimeZone string
	Zones    []string
}

// zones are the time zones the account form offers; any IANA name may be
// typed instead.
var zones = []string{"UTC", "Europe/London", "Europe/Amsterdam", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
	"America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"}

func (c *console) account(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.render(w, r, http.StatusOK, "account", view{V: v, Title: "Account", Flash: flash(r.URL.Query().Get("done")),
		Data: accountData{TimeZone: v.User.TimeZone, Zones: zones}})
}

func (c *console) saveAccount(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := c.svc.SetTimeZone(r.Context(), v.User, r.PostFormValue("time_zone")); err != nil {
		if statusOf(err) == http.StatusUnprocessableEntity {
			c.render(w, r, http.StatusUnprocessableEntity, "account", view{V: v, Title: "Account", Error: message(err),
				Data: accountData{TimeZone: r.PostFormValue("time_zone"), Zones: zones}})
			return
		}
		c.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/account?done=account", http.StatusSeeOther)
}
