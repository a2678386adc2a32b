package service

import (
	"context"
	"strconv"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// Reference data — channels, locations and SKUs — is created, read, listed
// and patched the same way: check the permission, validate, write the row
// and its event in one transaction.

// ChannelPatch lists the channel fields to change; nil fields stay as they are.
type ChannelPatch struct {
	Name   *string
	Kind   *channel.Kind
	Secret *string
	Policy *PolicyPatch
	// Locations replaces the list of feeding locations; an empty list means
	// every active location.
	Locations *[]string
}

// PolicyPatch lists the policy fields to change.
type PolicyPatch struct {
	CancellationWindowMinutes  *int
	ReturnWindowDays           *int
	PartialCancellation        *bool
	Refunds                    *channel.Refunder
	ConfirmShipmentWithinHours *int
	MayEmailCustomer           *bool
}

// LocationPatch lists the location fields to change.
type LocationPatch struct {
	Name    *string
	Kind    *inventory.LocationKind
	Address *orderly.Address
	Lat     **float64
	Lon     **float64
	Active  *bool
	// Routing attributes. Priority 0 means the default (100); empty
	// modes the kind's default; empty ships_to anywhere.
	Priority        *int
	ShipsTo         *[]string
	Modes           *[]string
	DailyCapacity   *int
	CostPerShipment *int64
	// Carrier is the carrier kind (table-rate, easypost); "" means
	// table-rate.
	Carrier *string
}

// SKUPatch lists the SKU fields to change.
type SKUPatch struct {
	Name        *string
	Barcode     *string
	WeightGrams *int64
}

// CreateChannel stores a new channel.
func (s *Service) CreateChannel(ctx context.Context, p auth.Principal, c *channel.Channel) (*channel.Channel, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := checkLocations(ctx, s.store, c.Locations); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = s.clock.Now(), s.clock.Now()
	c.HasSecret = c.Secret != ""
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.ChannelInsert(ctx, c); err != nil {
			return duplicateAs(err, "code", "channel %q already exists", c.Code)
		}
		return tx.EventInsert(ctx, s.event("channel.created", "channel", c.Code, "", p.Actor(),
			map[string]any{"kind": c.Kind, "name": c.Name, "policy": c.Policy, "locations": c.Locations}))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetChannel returns a channel.
func (s *Service) GetChannel(ctx context.Context, p auth.Principal, code string) (*channel.Channel, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, err
	}
	return notFoundAs(s.store.ChannelGet(ctx, code))("channel %q not found", code)
}

// ListChannels returns a page of channels ordered by code.
func (s *Service) ListChannels(ctx context.Context, p auth.Principal, lp store.ListParams) ([]*channel.Channel, string, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, "", err
	}
	return page(ctx, lp, s.store.ChannelList, func(c *channel.Channel) string { return c.Code })
}

// UpdateChannel applies a patch to a channel.
func (s *Service) UpdateChannel(ctx context.Context, p auth.Principal, code string, patch ChannelPatch) (*channel.Channel, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	var out *channel.Channel
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		// Lock before reading: two concurrent PATCHes each apply their
		// fields on top of the other's, instead of the second overwriting
		// the first with what it read before the first committed.
		if err := tx.ChannelLock(ctx, code); err != nil {
			return err
		}
		c, err := notFoundAs(tx.ChannelGet(ctx, code))("channel %q not found", code)
		if err != nil {
			return err
		}
		set(&c.Name, patch.Name)
		set(&c.Kind, patch.Kind)
		set(&c.Secret, patch.Secret)
		set(&c.Locations, patch.Locations)
		if pp := patch.Policy; pp != nil {
			set(&c.Policy.CancellationWindowMinutes, pp.CancellationWindowMinutes)
			set(&c.Policy.ReturnWindowDays, pp.ReturnWindowDays)
			set(&c.Policy.PartialCancellation, pp.PartialCancellation)
			set(&c.Policy.Refunds, pp.Refunds)
			set(&c.Policy.ConfirmShipmentWithinHours, pp.ConfirmShipmentWithinHours)
			set(&c.Policy.MayEmailCustomer, pp.MayEmailCustomer)
		}
		if err := c.Validate(); err != nil {
			return err
		}
		if patch.Locations != nil {
			if err := checkLocations(ctx, tx, c.Locations); err != nil {
				return err
			}
		}
		c.HasSecret = c.Secret != ""
		c.UpdatedAt = s.clock.Now()
		if err := tx.ChannelUpdate(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.EventInsert(ctx, s.event("channel.updated", "channel", c.Code, "", p.Actor(),
			map[string]any{"kind": c.Kind, "name": c.Name, "policy": c.Policy, "locations": c.Locations,
				"secret_changed": patch.Secret != nil}))
	})
	return out, err
}

// checkLocations refuses a channel's location list naming a location that
// does not exist (KindInvalid naming locations[i]). An inactive location
// may be listed: it feeds the channel again once it is active.
func checkLocations(ctx context.Context, q store.Querier, codes []string) error {
	var pr orderly.Problems
	for i, code := range codes {
		if _, err := q.LocationGet(ctx, code); orderly.KindOf(err) == orderly.KindNotFound {
			pr.Add("locations["+strconv.Itoa(i)+"]", "unknown location %q", code)
		} else if err != nil {
			return err
		}
	}
	return pr.Err()
}

// CreateLocation stores a new location.
func (s *Service) CreateLocation(ctx context.Context, p auth.Principal, l *inventory.Location) (*inventory.Location, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	l.ApplyDefaults()
	if err := l.Validate(); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = s.clock.Now(), s.clock.Now()
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.LocationInsert(ctx, l); err != nil {
			return duplicateAs(err, "code", "location %q already exists", l.Code)
		}
		return tx.EventInsert(ctx, s.event("location.created", "location", l.Code, "", p.Actor(),
			map[string]any{"kind": l.Kind, "name": l.Name, "active": l.Active}))
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// GetLocation returns a location.
func (s *Service) GetLocation(ctx context.Context, p auth.Principal, code string) (*inventory.Location, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, err
	}
	l, err := notFoundAs(s.store.LocationGet(ctx, code))("location %q not found", code)
	if err != nil {
		return nil, err
	}
	l.ApplyDefaults()
	return l, nil
}

// ListLocations returns a page of locations ordered by code.
func (s *Service) ListLocations(ctx context.Context, p auth.Principal, lp store.ListParams) ([]*inventory.Location, string, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, "", err
	}
	items, next, err := page(ctx, lp, s.store.LocationList, func(l *inventory.Location) string { return l.Code })
	for _, l := range items {
		l.ApplyDefaults()
	}
	return items, next, err
}

// UpdateLocation applies a patch to a location.
func (s *Service) UpdateLocation(ctx context.Context, p auth.Principal, code string, patch LocationPatch) (*inventory.Location, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	var out *inventory.Location
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		// Lock before reading, as UpdateChannel does.
		if err := tx.LocationLock(ctx, code); err != nil {
			return err
		}
		l, err := notFoundAs(tx.LocationGet(ctx, code))("location %q not found", code)
		if err != nil {
			return err
		}
		set(&l.Name, patch.Name)
		set(&l.Kind, patch.Kind)
		set(&l.Address, patch.Address)
		set(&l.Lat, patch.Lat)
		set(&l.Lon, patch.Lon)
		set(&l.Active, patch.Active)
		set(&l.Priority, patch.Priority)
		set(&l.ShipsTo, patch.ShipsTo)
		set(&l.Modes, patch.Modes)
		set(&l.DailyCapacity, patch.DailyCapacity)
		set(&l.CostPerShipment, patch.CostPerShipment)
		set(&l.Carrier, patch.Carrier)
		l.ApplyDefaults()
		if err := l.Validate(); err != nil {
			return err
		}
		l.UpdatedAt = s.clock.Now()
		if err := tx.LocationUpdate(ctx, l); err != nil {
			return err
		}
		out = l
		return tx.EventInsert(ctx, s.event("location.updated", "location", l.Code, "", p.Actor(),
			map[string]any{"kind": l.Kind, "name": l.Name, "active": l.Active, "carrier": l.Carrier}))
	})
	return out, err
}

// CreateSKU stores a new SKU.
func (s *Service) CreateSKU(ctx context.Context, p auth.Principal, k *inventory.SKU) (*inventory.SKU, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	k.CreatedAt, k.UpdatedAt = s.clock.Now(), s.clock.Now()
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.SKUInsert(ctx, k); err != nil {
			return duplicateAs(err, "sku", "SKU %q already exists", k.SKU)
		}
		return tx.EventInsert(ctx, s.event("sku.created", "sku", k.SKU, "", p.Actor(),
			map[string]any{"name": k.Name}))
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// GetSKU returns a SKU.
func (s *Service) GetSKU(ctx context.Context, p auth.Principal, code string) (*inventory.SKU, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, err
	}
	return notFoundAs(s.store.SKUGet(ctx, code))("SKU %q not found", code)
}

// ListSKUs returns a page of SKUs ordered by code.
func (s *Service) ListSKUs(ctx context.Context, p auth.Principal, lp store.ListParams) ([]*inventory.SKU, string, error) {
	if err := require(p, auth.PermReferenceRead); err != nil {
		return nil, "", err
	}
	return page(ctx, lp, s.store.SKUList, func(k *inventory.SKU) string { return k.SKU })
}

// UpdateSKU applies a patch to a SKU.
func (s *Service) UpdateSKU(ctx context.Context, p auth.Principal, code string, patch SKUPatch) (*inventory.SKU, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	var out *inventory.SKU
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		// Lock before reading, as UpdateChannel does.
		if err := tx.SKULock(ctx, code); err != nil {
			return err
		}
		k, err := notFoundAs(tx.SKUGet(ctx, code))("SKU %q not found", code)
		if err != nil {
			return err
		}
		set(&k.Name, patch.Name)
		set(&k.Barcode, patch.Barcode)
		set(&k.WeightGrams, patch.WeightGrams)
		if err := k.Validate(); err != nil {
			return err
		}
		k.UpdatedAt = s.clock.Now()
		if err := tx.SKUUpdate(ctx, k); err != nil {
			return err
		}
		out = k
		return tx.EventInsert(ctx, s.event("sku.updated", "sku", k.SKU, "", p.Actor(),
			map[string]any{"name": k.Name}))
	})
	return out, err
}

// set overwrites *dst with *src when src is not nil.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// page fetches one page of a code-ordered list and the cursor of the next
// page ("" when this is the last).
func page[T any](ctx context.Context, lp store.ListParams, list func(context.Context, store.ListParams) ([]T, error), code func(T) string) ([]T, string, error) {
	limit := store.Limit(lp.Limit)
	lp.Limit = limit + 1
	items, err := list(ctx, lp)
	if err != nil {
		return nil, "", err
	}
	if len(items) > limit {
		items = items[:limit]
		return items, code(items[limit-1]), nil
	}
	return items, "", nil
}

// notFoundAs rewrites a store's KindNotFound into a message that names what
// was asked for; other errors pass through.
func notFoundAs[T any](v T, err error) func(format string, args ...any) (T, error) {
	return func(format string, args ...any) (T, error) {
		if err != nil && orderly.KindOf(err) == orderly.KindNotFound {
			return v, orderly.Errorf(orderly.KindNotFound, format, args...)
		}
		return v, err
	}
}

// duplicateAs turns a uniqueness violation into a conflict naming field.
func duplicateAs(err error, field, format string, args ...any) error {
	if orderly.KindOf(err) == orderly.KindConflict {
		e := orderly.Errorf(orderly.KindConflict, format, args...)
		e.Code = store.CodeDuplicate
		e.Fields = []orderly.FieldError{{Field: field, Detail: e.Message}}
		return e
	}
	return err
}
