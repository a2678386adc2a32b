// Package orderly holds the vocabulary shared by every module of the Orderly
// order management system: identifiers, money and currencies, addresses and
// countries, the clock, events and error kinds.
//
// It imports nothing from the rest of the module; every other package may
// import it. Domain packages (order, inventory, channel, …) build on it.
package orderly

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// NewID returns a new internal identifier: a UUIDv7, so identifiers sort by
// creation time, which keeps B-tree inserts local on both backends.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Clock tells the time. Services take a Clock instead of calling time.Now so
// tests can fix and advance time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC and truncated to microseconds: the
// precision both storage backends keep, so a value read back equals the
// value written.
type SystemClock struct{}

// Now returns the current UTC time truncated to microseconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Event is one row of the event log: a fact that some state changed, written
// in the same transaction as the change. Events are an order's timeline, the
// source for outbound webhooks and the event stream, and analytics' input.
type Event struct {
	// Seq is the event's position in the global log, assigned by the store.
	Seq int64 `json:"seq"`
	// ID is the event's unique identifier (a UUIDv7).
	ID string `json:"id"`
	// Type names the fact, e.g. "order.created", "order.held".
	Type string `json:"type"`
	// Subject is the kind of thing that changed: "order", "channel", "location", "sku".
	Subject string `json:"subject"`
	// SubjectID identifies the thing that changed (an order id, a channel code, …).
	SubjectID string `json:"subject_id"`
	// OrderID is set for events that belong to an order's timeline.
	OrderID string `json:"order_id,omitempty"`
	// Actor says who caused the change: "key:<name>", "user:<email>" or "system".
	Actor string `json:"actor"`
	// At is when the change was committed, by the service's clock.
	At time.Time `json:"at"`
	// Data is the event's payload, a JSON object whose shape depends on Type.
	Data json.RawMessage `json:"data"`
}

// SystemActor is the actor recorded for changes Orderly makes on its own.
const SystemActor = "system"
