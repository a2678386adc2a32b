package store

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly/fulfilment"
)

// ConsoleQuerier is what the console's dashboard reads beyond the lists
// every client has: counts grouped in the database, so that the dashboard
// stays cheap however many orders there are, and each location's
// fulfilment SLA.
type ConsoleQuerier interface {
	// OrderCountByChannel returns, per channel, how many orders were
	// placed in [after, before). Channels with none are left out.
	OrderCountByChannel(ctx context.Context, after, before time.Time) (map[string]int, error)
	// OrderHoldReasons returns, per hold reason, how many orders are on
	// hold.
	OrderHoldReasons(ctx context.Context) (map[string]int, error)
	// OrderBackorders returns how many orders have a backordered unit and
	// how many units are backordered in all.
	OrderBackorders(ctx context.Context) (orders int, units int64, err error)
	// FulfilmentOrderListOpenBefore returns the open fulfilment orders
	// (requested, accepted, picking, packed) at location created before
	// before, oldest first, at most limit.
	FulfilmentOrderListOpenBefore(ctx context.Context, location string, before time.Time, limit int) ([]*fulfilment.FulfilmentOrder, error)
	// LocationSLAList returns the fulfilment SLA, in minutes, of each
	// location that has one set.
	LocationSLAList(ctx context.Context) (map[string]int, error)
	// LocationSLASet sets a location's fulfilment SLA in minutes. An
	// unknown location is KindInvalid.
	LocationSLASet(ctx context.Context, location string, minutes int) error
}
