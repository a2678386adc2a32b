package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/store"
)

// This file holds what only the console asks for: its dashboard and the
// locations' fulfilment SLAs the dashboard measures against.

// DefaultSLA is how long a fulfilment order may wait at a location that
// has no SLA of its own before the dashboard calls it late.
const DefaultSLA = 24 * time.Hour

// ChartBar is one labelled number of a dashboard chart.
type ChartBar struct {
	Label string
	N     int
}

// LateFulfilment is a fulfilment order open for longer than its
// location's SLA.
type LateFulfilment struct {
	FulfilmentOrder *fulfilment.FulfilmentOrder
	SLA             time.Duration
	Age             time.Duration
}

// Dashboard is the console's first page: today's orders by channel,
// orders on hold by reason, backorders, and late fulfilment orders.
type Dashboard struct {
	// Since is the start of today in the viewer's time zone.
	Since             time.Time
	OrdersByChannel   []ChartBar
	HoldsByReason     []ChartBar
	BackorderedOrders int
	BackorderedUnits  int64
	Late              []LateFulfilment
}

// maxLatePerLocation bounds the late fulfilment orders listed per location.
const maxLatePerLocation = 20

// Dashboard returns the dashboard as seen at now in time zone tz: "today"
// starts at midnight there. A warehouse user sees only its location's late
// fulfilment orders.
func (s *Service) Dashboard(ctx context.Context, p auth.Principal, tz *time.Location) (*Dashboard, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	if tz == nil {
		tz = time.UTC
	}
	now := s.clock.Now()
	local := now.In(tz)
	since := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, tz).UTC()
	until := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, tz).UTC() // a DST day is not 24h
	d := &Dashboard{Since: since}
	byChannel, err := s.store.OrderCountByChannel(ctx, since, until)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleChannel {
		byChannel = map[string]int{p.Channel: byChannel[p.Channel]}
	}
	d.OrdersByChannel = counts(byChannel)
	if p.Role != auth.RoleChannel {
		holds, err := s.store.OrderHoldReasons(ctx)
		if err != nil {
			return nil, err
		}
		d.HoldsByReason = counts(holds)
		if d.BackorderedOrders, d.BackorderedUnits, err = s.store.OrderBackorders(ctx); err != nil {
			return nil, err
		}
	}
	slas, err := s.store.LocationSLAList(ctx)
	if err != nil {
		return nil, err
	}
	locs, err := s.allLocations(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range locs {
		if !p.WorksAt(l) || p.Role == auth.RoleChannel {
			continue
		}
		sla := DefaultSLA
		if m, ok := slas[l]; ok {
			sla = time.Duration(m) * time.Minute
		}
		fos, err := s.store.FulfilmentOrderListOpenBefore(ctx, l, now.Add(-sla), maxLatePerLocation)
		if err != nil {
			return nil, err
		}
		for _, f := range fos {
			d.Late = append(d.Late, LateFulfilment{FulfilmentOrder: f, SLA: sla, Age: now.Sub(f.CreatedAt)})
		}
	}
	slices.SortFunc(d.Late, func(a, b LateFulfilment) int { return strings.Compare(a.FulfilmentOrder.ID, b.FulfilmentOrder.ID) })
	return d, nil
}

// counts turns a map into counts ordered by label.
func counts(m map[string]int) []ChartBar {
	out := make([]ChartBar, 0, len(m))
	for k, n := range m {
		out = append(out, ChartBar{Label: k, N: n})
	}
	slices.SortFunc(out, func(a, b ChartBar) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// allLocations returns every location code, in order.
func (s *Service) allLocations(ctx context.Context) ([]string, error) {
	var out []string
	p := store.ListParams{Limit: store.MaxLimit}
	for {
		ls, err := s.store.LocationList(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			out = append(out, l.Code)
		}
		if len(ls) < p.Limit {
			return out, nil
		}
		p.After = ls[len(ls)-1].Code
	}
}

// LocationSLAs returns every location's fulfilment SLA (DefaultSLA where
// none is set), by location code.
func (s *Service) LocationSLAs(ctx context.Context, p auth.Principal) (map[string]time.Duration, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, err
	}
	set, err := s.store.LocationSLAList(ctx)
	if err != nil {
		return nil, err
	}
	locs, err := s.allLocations(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Duration, len(locs))
	for _, l := range locs {
		out[l] = DefaultSLA
		if m, ok := set[l]; ok {
			out[l] = time.Duration(m) * time.Minute
		}
	}
	return out, nil
}

// SetLocationSLA sets how long a fulfilment order may wait at a location
// before it is late: between 1 minute and 30 days.
func (s *Service) SetLocationSLA(ctx context.Context, p auth.Principal, location string, sla time.Duration) error {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return err
	}
	if sla < time.Minute || sla > 30*24*time.Hour {
		return orderly.Invalid("sla", "must be between 1 minute and 30 days")
	}
	// The change and its event in one transaction.
	return s.store.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.LocationGet(ctx, location); err != nil {
			return err
		}
		if err := tx.LocationSLASet(ctx, location, int(sla/time.Minute)); err != nil {
			return err
		}
		return tx.EventInsert(ctx, s.event("location.sla_set", "location", location, "", p.Actor(),
			map[string]any{"location": location, "sla_minutes": int(sla / time.Minute)}))
	})
}

// LocationSLA returns one location's fulfilment SLA and whether it was
// set (false: DefaultSLA applies). An unknown location is KindNotFound.
func (s *Service) LocationSLA(ctx context.Context, p auth.Principal, location string) (time.Duration, bool, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return 0, false, err
	}
	if _, err := s.store.LocationGet(ctx, location); err != nil {
		return 0, false, err
	}
	set, err := s.store.LocationSLAList(ctx)
	if err != nil {
		return 0, false, err
	}
	if m, ok := set[location]; ok {
		return time.Duration(m) * time.Minute, true, nil
	}
	return DefaultSLA, false, nil
}
