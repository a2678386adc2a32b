package service

import (
	"context"
	"errors"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/orderimport"
)

// ImportResult is what a bulk import did: how many orders the file held,
// how many were created, skipped as already stored (channel + external id)
// or not imported because of an error, and every error with its row.
type ImportResult struct {
	Channel    string                 `json:"channel"`
	Orders     int                    `json:"orders"`
	Created    int                    `json:"created"`
	Duplicates int                    `json:"duplicates"`
	Failed     int                    `json:"failed"`
	Errors     []orderimport.RowError `json:"errors"`
}

// ImportOrders captures the orders read from a file (orderimport.Parse)
// into channel, one at a time, each in its own transaction through the
// normal capture path — CreateOrder, or CreateFulfilledOrder for one with
// a fulfilled_at_location — so routing, reservation and events happen as
// for an order sent to the API, and one bad order never stops or touches
// another. A record with errors is not captured at all and its errors are
// reported; an order already stored under the channel's external id is
// skipped as a duplicate, so running the same file again creates nothing.
// Errors of capture (an unknown SKU, a strict refusal, an unknown
// location) are reported at the rows they name. progress, if not nil, is
// called after each order with how many are done.
//
// The channel must exist (else KindInvalid naming channel) and p must be
// allowed to create its orders. An error returned is one that is not about
// the data (the database is unavailable, the context ended): orders
// captured before it stay captured, and re-running the import completes it.
func (s *Service) ImportOrders(ctx context.Context, p auth.Principal, channelCode string, records []*orderimport.Record,
	progress func(done, total int)) (*ImportResult, error) {
	if err := require(p, auth.PermOrdersCreate); err != nil {
		return nil, err
	}
	if p.Role == auth.RoleChannel && channelCode != p.Channel {
		return nil, orderly.Errorf(orderly.KindForbidden, "this key may only create orders for channel %q", p.Channel)
	}
	if channelCode == "" {
		return nil, orderly.Invalid("channel", "is required")
	}
	if _, err := s.store.ChannelGet(ctx, channelCode); err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, orderly.Invalid("channel", "unknown channel %q", channelCode)
		}
		return nil, err
	}
	res := &ImportResult{Channel: channelCode, Orders: len(records), Errors: []orderimport.RowError{}}
	for i, rec := range records {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if len(rec.Errors) > 0 || rec.Order == nil {
			res.Failed++
			res.Errors = append(res.Errors, rec.Errors...)
		} else {
			rec.Order.Channel = channelCode
			var created bool
			var err error
			if rec.FulfilledAtLocation != "" {
				_, created, err = s.CreateFulfilledOrder(ctx, p, rec.Order, rec.FulfilledAtLocation)
			} else {
				_, created, err = s.CreateOrder(ctx, p, rec.Order, rec.Strict)
			}
			switch {
			case err == nil && created:
				res.Created++
			case err == nil:
				res.Duplicates++
			case isDataError(err):
				res.Failed++
				res.Errors = append(res.Errors, rec.ErrorsOf(err)...)
			default:
				return res, err
			}
		}
		if progress != nil {
			progress(i+1, len(records))
		}
	}
	return res, nil
}

// isDataError says err is about the order itself — it is reported at its
// rows and the import goes on — rather than about the system.
func isDataError(err error) bool {
	var oe *orderly.Error
	if !errors.As(err, &oe) {
		return false
	}
	switch oe.Kind {
	case orderly.KindInvalid, orderly.KindConflict, orderly.KindNotFound:
		return true
	}
	return false
}
