package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

type routingData struct {
	RuleSets []*routing.RuleSet
	// The simulation form's values.
	Version    int
	From, To   string
	Simulation *service.Simulation
}

// routing lists the rule-set versions, newest first, with the active one
// marked, and the simulation form.
func (c *console) routing(w http.ResponseWriter, r *http.Request, v *viewer) {
	d, err := c.routingData(r, v)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "routing", view{V: v, Title: "Routing", Nav: "routing", Data: d})
}

func (c *console) routingData(r *http.Request, v *viewer) (*routingData, error) {
	rs, _, err := c.svc.ListRuleSets(r.Context(), v.Principal, store.RuleSetListParams{Limit: 100})
	if err != nil {
		return nil, err
	}
	now := c.svc.Now().Now().In(v.TZ)
	d := &routingData{RuleSets: rs, From: now.AddDate(0, 0, -7).Format("2006-01-02"), To: now.Format("2006-01-02")}
	return d, nil
}

// ruleSet shows one rule-set version.
func (c *console) ruleSet(w http.ResponseWriter, r *http.Request, v *viewer) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		c.fail(w, r, v, orderly.Errorf(orderly.KindNotFound, "no rule set %q", r.PathValue("version")))
		return
	}
	rs, err := c.svc.GetRuleSet(r.Context(), v.Principal, n)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "ruleset", view{V: v, Title: "Rule set v" + strconv.Itoa(n), Nav: "routing", Data: rs})
}

// simulate replays the orders placed between two dates (in the viewer's
// time zone, both days included) with a rule-set version and shows the
// comparison with the active one. It changes nothing, so it is a GET.
func (c *console) simulate(w http.ResponseWriter, r *http.Request, v *viewer) {
	d, err := c.routingData(r, v)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	q := r.URL.Query()
	var pr orderly.Problems
	d.Version, err = strconv.Atoi(q.Get("version"))
	if err != nil {
		pr.Add("version", "is not a version number")
	}
	d.From, d.To = q.Get("from"), q.Get("to")
	from, err := time.ParseInLocation("2006-01-02", d.From, v.TZ)
	if err != nil {
		pr.Add("from", "is not a date (YYYY-MM-DD)")
	}
	to, err := time.ParseInLocation("2006-01-02", d.To, v.TZ)
	if err != nil {
		pr.Add("to", "is not a date (YYYY-MM-DD)")
	}
	if err := pr.Err(); err != nil {
		c.render(w, r, http.StatusUnprocessableEntity, "routing", view{V: v, Title: "Routing", Nav: "routing", Error: message(err), Data: d})
		return
	}
	sim, err := c.svc.SimulateRouting(r.Context(), v.Principal, d.Version, from.UTC(), to.AddDate(0, 0, 1).UTC())
	if err != nil {
		if s := statusOf(err); s == http.StatusInternalServerError {
			c.fail(w, r, v, err)
			return
		}
		c.render(w, r, statusOf(err), "routing", view{V: v, Title: "Routing", Nav: "routing", Error: message(err), Data: d})
		return
	}
	d.Simulation = sim
	c.render(w, r, http.StatusOK, "routing", view{V: v, Title: "Routing simulation", Nav: "routing", Data: d})
}
