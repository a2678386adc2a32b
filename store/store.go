// Package store is Orderly's one storage seam: the interface every backend
// (sqlite, postgres) implements and the contract suite in store/storetest
// pins. It speaks domain types and orderly error kinds; no driver type or
// driver error ever crosses it.
//
// Methods are named NounVerb, take a context and return the package's own
// types. Errors, unless a method says otherwise:
//   - a missing row is an *orderly.Error of KindNotFound;
//   - a uniqueness violation is KindConflict with Code CodeDuplicate;
//   - a stale optimistic-concurrency version is KindConflict with Code
//     CodeVersionConflict;
//   - a busy database or lost connection is KindUnavailable.
package store

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/secret"
)

// Error codes carried by KindConflict errors.
const (
	CodeDuplicate       = "duplicate"
	CodeVersionConflict = "version_conflict"
)

// ErrDuplicate matches (errors.Is) any uniqueness violation.
var ErrDuplicate = &orderly.Error{Kind: orderly.KindConflict, Code: CodeDuplicate}

// Error codes of stock movements refused by their guards.
const (
	CodeInsufficientStock = "insufficient_stock"
	CodeNegativeStock     = "negative_stock"
)

// ErrInsufficientStock matches a reservation refused because too little is
// available (KindConflict).
var ErrInsufficientStock = &orderly.Error{Kind: orderly.KindConflict, Code: CodeInsufficientStock}

// ErrNegativeStock matches a movement refused because on hand or reserved
// would go below zero (KindInvalid).
var ErrNegativeStock = &orderly.Error{Kind: orderly.KindInvalid, Code: CodeNegativeStock}

// ErrVersionConflict matches (errors.Is) any stale-version update.
var ErrVersionConflict = &orderly.Error{Kind: orderly.KindConflict, Code: CodeVersionConflict}

// Alone returns ctx marking the InTx run with it as one that writes a lot
// (a stock snapshot of thousands of SKUs): a backend that batches
// concurrent transactions (SQLite's group commit) runs it in a database
// transaction of its own. Inside a batch each transaction runs in a
// savepoint, and SQLite's in-memory savepoint journal makes every
// statement of a large one cost time in proportion to all the batch has
// written before it: ten concurrent 5,000-SKU snapshots took 45 s batched
// and 4.5 s one by one.
func Alone(ctx context.Context) context.Context {
	return context.WithValue(ctx, aloneKey{}, true)
}

// IsAlone reports whether ctx carries Alone.
func IsAlone(ctx context.Context) bool {
	alone, _ := ctx.Value(aloneKey{}).(bool)
	return alone
}

type aloneKey struct{}

// Store is an open database.
type Store interface {
	// Querier reads (and writes) outside any transaction. Use InTx for every
	// change that must be atomic with another: a state change and its event.
	Querier

	// InTx runs fn in one write transaction and commits it if fn returns
	// nil; any error (or panic) rolls it back. fn may be called more than
	// once if the backend reports a retryable serialisation failure, so it
	// must not have effects outside tx. The commit is durable when InTx
	// returns nil.
	InTx(ctx context.Context, fn func(tx Querier) error) error

	// PrepareCapture checks and encodes p for OrderCapture (p.Prepared),
	// or returns the error OrderCapture would for bad JSON. It reads and
	// writes nothing: call it before InTx, so that the transaction (on
	// SQLite, its one writer) does only what must be done inside.
	PrepareCapture(p *CaptureParams) error

	// UseSecrets makes the store seal the secrets it keeps readable
	// (channels' webhook secrets, connector settings, webhook subscription
	// secrets) with k's current key as it writes them, and open them with
	// any of k's keys as it reads them; nil (the default) keeps them as
	// given. Call it before the store is used.
	UseSecrets(k *secret.Keyring)
	// SecretsStatus counts the stored secrets by how they are kept.
	SecretsStatus(ctx context.Context) (SecretsStatus, error)
	// SecretsSeal seals, in one transaction, every stored secret not yet
	// sealed with the current key (plaintext, or a previous key's) and
	// returns how many it sealed. Without a keyring it is KindInvalid.
	SecretsSeal(ctx context.Context) (int, error)

	// Migrate applies every pending migration, each in its own transaction.
	Migrate(ctx context.Context) error
	// MigrationStatus lists every known migration and whether it is applied.
	MigrationStatus(ctx context.Context) ([]Migration, error)

	// ReleaseInFlight declares the work that a process was doing when it
	// stopped abandoned: every Idempotency-Key claim still in progress
	// (claimed, or applied without its response) counts as stale at once,
	// and every running job's lease as expired at now. It returns how many
	// of each it released. Only for a database that no other process uses
	// — SQLite, when `serve` starts — since on a shared database the claims
	// and leases may be another node's work in progress.
	ReleaseInFlight(ctx context.Context, now time.Time) (claims, jobs int64, err error)
	// AnalyzeStock brings the query planner's statistics of the stock
	// balances up to date after a bulk change (thousands of new balances
	// at once). PostgreSQL plans by statistics, and until autovacuum
	// catches up (a minute or more) it plans for the much smaller table it
	// last sampled: right after a bulk load of stock it read every balance
	// for an availability lookup and took the location index to lock a
	// count's balances (docs/benchmarks.md). PostgreSQL: ANALYZE
	// stock_balances. SQLite: nothing (without sqlite_stat1 its planner
	// assumes selective indexes, which these are).
	AnalyzeStock(ctx context.Context) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Backend names the implementation: "sqlite" or "postgres".
	Backend() string
	// PoolStats reports the connection pool, for metrics.
	PoolStats() PoolStats
	// Close releases every connection.
	Close() error
}

// Migration is one numbered schema migration.
type Migration struct {
	// Name is the file name, e.g. "0001_init.sql"; both backends use the same names.
	Name      string
	AppliedAt *time.Time
}

// PoolStats describes a backend's connection pool.
type PoolStats struct {
	MaxOpen      int
	Open         int
	InUse        int
	Idle         int
	WaitCount    int64
	WaitDuration time.Duration
}

// Querier is every query and command, usable inside or outside a
// transaction.
type Querier interface {
	// OutboundQuerier is the job queue and outbound delivery (outbound.go).
	OutboundQuerier
	// IntegrationQuerier is the channel jobs' state (integrations.go).
	IntegrationQuerier
	// UserQuerier is the console's users, sessions and sign-in throttle (users.go).
	UserQuerier
	// ConsoleQuerier is the console dashboard's counts and location SLAs (console.go).
	ConsoleQuerier
	// IdempotencyMarker marks an Idempotency-Key claim applied (idempotency.go).
	IdempotencyMarker

	// ChannelInsert stores a new channel. A taken code is ErrDuplicate.
	ChannelInsert(ctx context.Context, c *channel.Channel) error
	// ChannelGet returns the channel with the code, secret included.
	ChannelGet(ctx context.Context, code string) (*channel.Channel, error)
	// ChannelList returns channels ordered by code, after p.After.
	ChannelList(ctx context.Context, p ListParams) ([]*channel.Channel, error)
	// ChannelLock locks the channel's row until the transaction ends
	// (SELECT … FOR UPDATE on PostgreSQL; SQLite's one writer excludes other
	// writers), so that a read-modify-write of the channel cannot lose a
	// concurrent one. Read the channel after locking it. An unknown code is
	// KindNotFound.
	ChannelLock(ctx context.Context, code string) error
	// ChannelUpdate overwrites the channel's name, kind, secret, policy,
	// locations and UpdatedAt. An unknown code is KindNotFound.
	ChannelUpdate(ctx context.Context, c *channel.Channel) error

	// LocationInsert stores a new location. A taken code is ErrDuplicate.
	LocationInsert(ctx context.Context, l *inventory.Location) error
	// LocationGet returns the location with the code.
	LocationGet(ctx context.Context, code string) (*inventory.Location, error)
	// LocationList returns locations ordered by code, after p.After.
	LocationList(ctx context.Context, p ListParams) ([]*inventory.Location, error)
	// LocationLock locks the location's row until the transaction ends, as
	// ChannelLock does. An unknown code is KindNotFound.
	LocationLock(ctx context.Context, code string) error
	// LocationUpdate overwrites every field but Code and CreatedAt.
	LocationUpdate(ctx context.Context, l *inventory.Location) error
	// LocationOrdersOn returns, per location with a daily capacity, how
	// many distinct orders had stock allocated there on the UTC day of
	// day (allocations released or shipped since count too): what its
	// daily capacity has used. Locations with none, and locations without
	// a capacity, are left out. The database keeps these counts as
	// allocations come and go (migration 0015), so the read does not grow
	// with the day's orders.
	LocationOrdersOn(ctx context.Context, day time.Time) (map[string]int, error)

	// SKUInsert stores a new SKU. A taken SKU code is ErrDuplicate.
	SKUInsert(ctx context.Context, s *inventory.SKU) error
	// SKUGet returns the SKU with the code.
	SKUGet(ctx context.Context, sku string) (*inventory.SKU, error)
	// SKUList returns SKUs ordered by code, after p.After.
	SKUList(ctx context.Context, p ListParams) ([]*inventory.SKU, error)
	// SKULock locks the SKU's row until the transaction ends, as
	// ChannelLock does. An unknown code is KindNotFound.
	SKULock(ctx context.Context, sku string) error
	// SKUUpdate overwrites every field but SKU and CreatedAt.
	SKUUpdate(ctx context.Context, s *inventory.SKU) error
	// SKUMissing returns those of codes that are not stored, in the order
	// given, without duplicates.
	SKUMissing(ctx context.Context, codes []string) ([]string, error)

	// OrderInsert stores a new order with its lines and assigns o.Number
	// (sequential from 1001). An order whose Channel+ExternalID is already
	// stored is ErrDuplicate. The channel must exist.
	OrderInsert(ctx context.Context, o *order.Order) error
	// OrderCapture stores a new order together with its stock reservation
	// and its events, all or nothing — what a capture writes once it has
	// locked the balances (BalancesLock) and planned its picks:
	//   - the picks, as StockReserve takes them (guarded, locked in (sku,
	//     location) order, a reserve movement and an allocation per pick,
	//     referenced "order:"+p.Order.ID, by p.Actor, at p.At); none is fine;
	//   - the order with its lines, as OrderInsert stores it, assigning
	//     p.Order.Number; the caller has set the lines' counters and the
	//     status and hold that the picks imply;
	//   - p.Created, if set, with the member "number" of its data (a JSON
	//     object) set to the assigned number, then p.Events, in that order,
	//     as EventInsert stores them (assigning each its Seq).
	// Expected failures write nothing and leave the transaction usable:
	// an order whose Channel+ExternalID is already stored is ErrDuplicate;
	// picks that do not fit are ErrInsufficientStock naming the first key
	// that does not; a quantity that is not positive, or event data that
	// is not a JSON object, is KindInvalid. After any other error (an
	// unknown channel, a taken event id, a lost connection) the caller
	// must end the transaction. On PostgreSQL the reservation, the order
	// and the events go to the server in one pipeline.
	OrderCapture(ctx context.Context, p CaptureParams) error
	// OrderGet returns the order with its lines, by internal id.
	OrderGet(ctx context.Context, id string) (*order.Order, error)
	// OrderGetByNumber returns the order with its lines, by order number.
	OrderGetByNumber(ctx context.Context, number int64) (*order.Order, error)
	// OrderGetByExternalID returns the order a channel knows by externalID.
	OrderGetByExternalID(ctx context.Context, channel, externalID string) (*order.Order, error)
	// OrderList returns orders with their lines, newest (highest number)
	// first, filtered by p.
	OrderList(ctx context.Context, p OrderListParams) ([]*order.Order, error)
	// OrderLock locks the order's row until the transaction ends (SELECT …
	// FOR UPDATE on PostgreSQL; SQLite's single writer already excludes
	// other writers), so a read-modify-write of the order and what it owns
	// (its allocations) cannot interleave with another. Read the order after
	// locking it. An unknown id is KindNotFound.
	OrderLock(ctx context.Context, id string) error
	// OrderUpdate writes the order's mutable fields (status, hold, cancel
	// reason, note, tags, totals, channel and financial status, the
	// reported totals unless nil, UpdatedAt) and every line's name, prices
	// and counters, if the
	// stored version is still o.Version; it then increments o.Version. A
	// stale version is ErrVersionConflict; an unknown id is KindNotFound.
	OrderUpdate(ctx context.Context, o *order.Order) error

	// StockMove applies one ledger movement: it inserts the movement
	// (assigning m.ID if empty and m.Seq) and changes the balance of
	// (m.SKU, m.Location) by its deltas, creating the balance at zero if
	// there is none, and returns the new balance. Guards, checked in the
	// same statement as the change so concurrent moves cannot break them:
	//   - m.DeltaReserved > 0 (a reservation) needs
	//     on_hand − reserved − safety_stock ≥ m.DeltaReserved, else
	//     ErrInsufficientStock and nothing is written;
	//   - the resulting on_hand and reserved must not be negative, else
	//     ErrNegativeStock and nothing is written.
	// A count below reserved is allowed (reserved may exceed on_hand).
	StockMove(ctx context.Context, m *inventory.Movement) (*inventory.Balance, error)
	// StockCount applies a batch of on-hand movements — the corrections of
	// a count — to balances the caller has locked (BalancesLock) or that do
	// not exist yet, in few round trips (on PostgreSQL one pipeline per
	// 1,000 movements). For each m, as StockMove, it inserts the movement
	// (assigning m.ID if empty and m.Seq) and changes the on hand of
	// (m.SKU, m.Location) by m.DeltaOnHand, creating the balance at zero if
	// there is none; it returns the new balances in the order of ms. The
	// keys are written in (sku, location) order. A movement with a
	// DeltaReserved, or two of one (sku, location), is KindInvalid and
	// nothing is written. Found as the batch runs: an on hand that would go
	// below zero is ErrNegativeStock (a missing balance is refused, not
	// created), a taken movement id ErrDuplicate, an unknown SKU or location
	// KindInvalid; after these the caller must end the transaction, since
	// other movements of ms may have been applied, each together with its
	// balance (outside a transaction nothing is written).
	StockCount(ctx context.Context, ms []*inventory.Movement) ([]*inventory.Balance, error)
	// StockReserve reserves an order's picks, all or nothing: for each pick
	// it inserts a reserve movement (referenced "order:"+orderID, by actor,
	// at at) and an allocation of pick.Quantity to the pick's line, and adds
	// the quantity to the reserved stock of (pick.SKU, pick.Location). It
	// returns the allocations, in the order of picks, with new ids. The
	// guard is StockMove's, checked in the same statement as the change,
	// against the demand of each (sku, location) summed over the picks:
	// on_hand − reserved − safety_stock ≥ demand, else ErrInsufficientStock
	// naming the first such key, and nothing is written (the transaction
	// stays usable). A missing balance has nothing available. It locks the
	// balances it changes in (sku, location) order until the transaction
	// ends. A quantity that is not positive is KindInvalid. The order is
	// checked when the transaction commits, as for AllocationInsert.
	StockReserve(ctx context.Context, orderID string, picks []inventory.Pick, actor string, at time.Time) ([]*inventory.Allocation, error)
	// BalanceGet returns the balance of sku at location, or KindNotFound.
	BalanceGet(ctx context.Context, location, sku string) (*inventory.Balance, error)
	// BalancesLock returns the balances of every (sku, location) pair of the
	// given SKUs and locations that exists, ordered by (sku, location), and
	// inside a transaction locks them in that order (SELECT … FOR UPDATE on
	// PostgreSQL; SQLite's single writer already excludes others) until
	// the transaction ends. Empty locations means every location.
	BalancesLock(ctx context.Context, skus, locations []string) ([]*inventory.Balance, error)
	// IntakeRead returns, in one round trip where the backend can send
	// several statements at once, what capturing an order reads before its
	// transaction; see IntakeView. It locks nothing, and outside a
	// transaction its reads need not share one snapshot.
	IntakeRead(ctx context.Context, q IntakeQuery) (*IntakeView, error)
	// AvailabilityRead returns, in one round trip where the backend can
	// send several statements at once, what an availability lookup reads:
	// the channel (if one is named), the active locations and the figures
	// of every balance of the SKUs; see AvailabilityView. It locks nothing.
	AvailabilityRead(ctx context.Context, channel string, skus []string) (*AvailabilityView, error)
	// BalancesBySKU returns every balance of the given SKUs, ordered by
	// (sku, location), without locking.
	BalancesBySKU(ctx context.Context, skus []string) ([]*inventory.Balance, error)
	// BalanceList pages balances ordered by (location, sku), filtered by
	// p.Location and p.SKU when set.
	BalanceList(ctx context.Context, p BalanceListParams) ([]*inventory.Balance, error)
	// BalanceSetSafetyStock sets the safety stock of a balance, creating the
	// balance at zero if there is none.
	BalanceSetSafetyStock(ctx context.Context, location, sku string, safety int64, at time.Time) (*inventory.Balance, error)
	// MovementList pages the ledger of one (location, sku), newest first.
	MovementList(ctx context.Context, p MovementListParams) ([]*inventory.Movement, error)
	// MovementSumSince returns, per SKU at location, the net on-hand change
	// of movements at or after since.
	MovementSumSince(ctx context.Context, location string, since time.Time) (map[string]int64, error)
	// LedgerCheck compares every balance with the sum of its ledger and
	// with the sum of its open allocations, and returns the keys where they
	// differ (empty when the books are consistent).
	LedgerCheck(ctx context.Context) ([]LedgerMismatch, error)

	// AllocationInsert stores an allocation (assigning its ID if empty).
	AllocationInsert(ctx context.Context, a *inventory.Allocation) error
	// AllocationListByOrder returns an order's open allocations (quantity
	// above zero), oldest first.
	AllocationListByOrder(ctx context.Context, orderID string) ([]*inventory.Allocation, error)
	// AllocationListByStock returns the open allocations at one (location,
	// sku), newest first.
	AllocationListByStock(ctx context.Context, location, sku string) ([]*inventory.Allocation, error)
	// AllocationSetQuantity changes an allocation's open quantity (0 closes it).
	AllocationSetQuantity(ctx context.Context, id string, quantity int64) error

	// ReportInsert stores a reconciliation report with its lines.
	ReportInsert(ctx context.Context, r *inventory.Report) error
	// ReportGet returns a report with its lines.
	ReportGet(ctx context.Context, id string) (*inventory.Report, error)
	// ReportList pages reports newest first, without lines, filtered by
	// location when set. p.After is the id of the last report of the
	// previous page.
	ReportList(ctx context.Context, location string, p ListParams) ([]*inventory.Report, error)

	// RuleSetInsert stores a new routing rule set as the next version (one
	// more than the highest stored, from 1), setting rs.Version; the
	// status is rs.Status (draft unless told). A concurrent insert that
	// took the same version is ErrDuplicate.
	RuleSetInsert(ctx context.Context, rs *routing.RuleSet) error
	// RuleSetGet returns the rule set of a version, or KindNotFound.
	RuleSetGet(ctx context.Context, version int) (*routing.RuleSet, error)
	// RuleSetActive returns the active rule set, or KindNotFound when no
	// version is active.
	RuleSetActive(ctx context.Context) (*routing.RuleSet, error)
	// RuleSetList returns rule sets newest (highest version) first, those
	// below p.BeforeVersion when it is set.
	RuleSetList(ctx context.Context, p RuleSetListParams) ([]*routing.RuleSet, error)
	// RuleSetActivate makes a version the active one, retiring the version
	// that was active, atomically, and returns it with ActivatedAt set to
	// at. Activating the active version changes nothing. An unknown
	// version is KindNotFound.
	RuleSetActivate(ctx context.Context, version int, at time.Time) (*routing.RuleSet, error)

	// RoutingDecisionInsert stores the receipt of one routing of an order
	// (its order is checked when the transaction commits, as for
	// AllocationInsert). The explanation must be JSON; its bytes are kept.
	RoutingDecisionInsert(ctx context.Context, d *RoutingDecision) error
	// RoutingDecisionListByOrder returns an order's routing decisions,
	// oldest first.
	RoutingDecisionListByOrder(ctx context.Context, orderID string) ([]*RoutingDecision, error)
	// RoutingDecisionsPlaced returns the first routing decision (the
	// capture's) of each order placed in [after, before), by placed_at
	// then order id, at most limit.
	RoutingDecisionsPlaced(ctx context.Context, after, before time.Time, limit int) ([]*RoutingDecision, error)

	// EventInsert appends events and assigns each its Seq, in the order
	// given (seqs increase along es), all in one statement where the
	// backend can. It is all or nothing: an event id already stored (or
	// given twice) is ErrDuplicate and no event is stored; data that is not
	// JSON is KindInvalid.
	EventInsert(ctx context.Context, es ...*orderly.Event) error
	// EventList returns events with Seq > p.AfterSeq in Seq order, filtered by p.
	EventList(ctx context.Context, p EventListParams) ([]*orderly.Event, error)

	// APIKeyInsert stores a key. A taken name is ErrDuplicate.
	APIKeyInsert(ctx context.Context, k *auth.APIKey) error
	// APIKeyGetByHash returns the unrevoked key with the hash, or KindNotFound.
	APIKeyGetByHash(ctx context.Context, hash string) (*auth.APIKey, error)
	// APIKeyList returns every key ordered by name.
	APIKeyList(ctx context.Context) ([]*auth.APIKey, error)
	// APIKeyRevoke revokes the key named name at at and returns it;
	// revoked says whether this call revoked it (false: it already was,
	// and keeps its first revocation time). No such key is KindNotFound.
	APIKeyRevoke(ctx context.Context, name string, at time.Time) (k *auth.APIKey, revoked bool, err error)

	// IdempotencyBegin claims (scope, key) for a request with the given
	// hash. If no record exists it stores rec (in progress, Status 0) and
	// returns nil. If one exists it returns it unchanged: the caller compares
	// hashes and replays, refuses or waits.
	IdempotencyBegin(ctx context.Context, rec *IdempotencyRecord) (*IdempotencyRecord, error)
	// IdempotencyReclaim takes over an in-progress record whose LockedAt is
	// before staleBefore (its request died), setting LockedAt to now and
	// RequestHash to hash. It reports whether it took it. An applied record
	// (IdempotencyApplied) is never taken over.
	IdempotencyReclaim(ctx context.Context, scope, key, hash string, staleBefore, now time.Time) (bool, error)
	// IdempotencyGet returns the record (scope, key), or KindNotFound.
	IdempotencyGet(ctx context.Context, scope, key string) (*IdempotencyRecord, error)
	// IdempotencyComplete records rec's response (Status, Body) for
	// (rec.Scope, rec.Key): an in-progress record (Status 0 or
	// IdempotencyApplied) takes its Status, Body and RequestHash (a claim
	// taken over from a dead process changes hands); where there is no record
	// — a claim held in memory (SingleProcess) — rec is stored whole. A
	// complete record is left as it is: KindNotFound.
	IdempotencyComplete(ctx context.Context, rec *IdempotencyRecord) error
	// IdempotencyDelete forgets an in-progress record whose request failed
	// in a way a retry may fix; an applied record is kept.
	IdempotencyDelete(ctx context.Context, scope, key string) error
	// IdempotencyPurge deletes records created before t and returns how many.
	IdempotencyPurge(ctx context.Context, before time.Time) (int64, error)

	// WebhookDeliveryInsert records an inbound webhook delivery as
	// processed. A (channel, delivery id) already recorded is ErrDuplicate,
	// and the transaction stays usable. Record it in the transaction that
	// applies the delivery, so that it is marked done exactly when its
	// effects are stored.
	WebhookDeliveryInsert(ctx context.Context, d *WebhookDelivery) error
	// WebhookDeliveryPurge deletes deliveries received before t and returns
	// how many.
	WebhookDeliveryPurge(ctx context.Context, before time.Time) (int64, error)

	// Fulfilment orders and shipments. Every change of one is made under
	// its order's lock (OrderLock), so a read made after taking that lock,
	// in the same transaction, is current; read the fulfilment order once
	// to learn its order, lock the order, then read it again.
	//
	// FulfilmentOrderInsert stores new fulfilment orders with their lines.
	// A taken id is ErrDuplicate; an unknown order or location KindInvalid.
	FulfilmentOrderInsert(ctx context.Context, fos ...*fulfilment.FulfilmentOrder) error
	// FulfilmentOrderGet returns a fulfilment order, or KindNotFound.
	FulfilmentOrderGet(ctx context.Context, id string) (*fulfilment.FulfilmentOrder, error)
	// FulfilmentOrderListByOrder returns an order's fulfilment orders,
	// oldest first.
	FulfilmentOrderListByOrder(ctx context.Context, orderID string) ([]*fulfilment.FulfilmentOrder, error)
	// FulfilmentOrderList pages fulfilment orders oldest first (by id),
	// filtered by p.
	FulfilmentOrderList(ctx context.Context, p FulfilmentOrderListParams) ([]*fulfilment.FulfilmentOrder, error)
	// FulfilmentOrderUpdate writes a fulfilment order's status, reject
	// reason, lines and UpdatedAt if the stored version is still f.Version,
	// then increments f.Version. A stale version is ErrVersionConflict; an
	// unknown id KindNotFound.
	FulfilmentOrderUpdate(ctx context.Context, f *fulfilment.FulfilmentOrder) error
	// ShipmentInsert stores a new shipment. A taken id is ErrDuplicate; an
	// unknown fulfilment order, order or location KindInvalid.
	ShipmentInsert(ctx context.Context, sh *fulfilment.Shipment) error
	// ShipmentGet returns a shipment, or KindNotFound.
	ShipmentGet(ctx context.Context, id string) (*fulfilment.Shipment, error)
	// ShipmentGetByTracking returns the newest shipment with a tracking
	// number, or KindNotFound.
	ShipmentGetByTracking(ctx context.Context, trackingNumber string) (*fulfilment.Shipment, error)
	// ShipmentListByOrder returns an order's shipments, oldest first.
	ShipmentListByOrder(ctx context.Context, orderID string) ([]*fulfilment.Shipment, error)
	// ShipmentUpdate writes a shipment's status, events, DeliveredAt and
	// UpdatedAt if the stored version is still sh.Version, then increments
	// sh.Version. A stale version is ErrVersionConflict; an unknown id
	// KindNotFound.
	ShipmentUpdate(ctx context.Context, sh *fulfilment.Shipment) error

	// LabelInsert stores a bought label (PDF included). A taken id is
	// ErrDuplicate; an unknown fulfilment order KindInvalid.
	LabelInsert(ctx context.Context, l *fulfilment.Label) error
	// LabelGet returns a label with its PDF, or KindNotFound.
	LabelGet(ctx context.Context, id string) (*fulfilment.Label, error)
	// TrackingNumberNext returns the next number of the table-rate
	// tracking sequence: positive, never the same twice (gaps are
	// allowed). Call it outside a transaction: the number is then taken
	// for good, whatever becomes of the label.
	TrackingNumberNext(ctx context.Context) (int64, error)
}

// FulfilmentOrderListParams filters and pages fulfilment orders. Zero
// values do not filter.
type FulfilmentOrderListParams struct {
	Location string
	Status   fulfilment.Status
	// Channel keeps the fulfilment orders of that channel's orders.
	Channel string
	// After is the id of the last fulfilment order of the previous page.
	After string
	Limit int
}

// CaptureParams is what OrderCapture stores.
type CaptureParams struct {
	// Order is the new order, with its lines; OrderCapture sets Number.
	Order *order.Order
	// Picks are the reservations to take, in (sku, location) order.
	Picks []inventory.Pick
	// Created is the order's creation event, stored first; the store adds
	// the assigned order number to its data as the member "number".
	Created *orderly.Event
	// Events are stored after Created, in this order.
	Events []*orderly.Event
	// Decision, if set, is stored as the order's routing decision
	// (RoutingDecisionInsert), Fulfilment as its fulfilment orders
	// (FulfilmentOrderInsert; ids are assigned where empty): with the
	// order, or not at all.
	Decision   *RoutingDecision
	Fulfilment []*fulfilment.FulfilmentOrder
	// Actor and At are the reserve movements' actor and time.
	Actor string
	At    time.Time
	// Prepared is the backend's encoding of these parameters, checked,
	// made by Store.PrepareCapture; nil: OrderCapture encodes them
	// itself. It describes the parameters as they were prepared: change
	// them and prepare again.
	Prepared any
}

// WebhookDelivery is one processed inbound webhook delivery: the platform's
// delivery id, which stays the same across its retries.
type WebhookDelivery struct {
	Channel    string
	DeliveryID string
	Topic      string
	ReceivedAt time.Time
}

// BalanceListParams filters and pages balances.
type BalanceListParams struct {
	Location string
	SKU      string
	// AfterLocation and AfterSKU are the key of the last balance of the
	// previous page.
	AfterLocation string
	AfterSKU      string
	Limit         int
}

// MovementListParams pages one balance's ledger, newest first.
type MovementListParams struct {
	Location string
	SKU      string
	// BeforeSeq pages: only movements with a smaller Seq (0 = newest page).
	BeforeSeq int64
	Limit     int
}

// LedgerMismatch is one balance whose stored figures disagree with its
// ledger or its allocations.
type LedgerMismatch struct {
	SKU      string
	Location string
	// Stored balance figures.
	OnHand   int64
	Reserved int64
	// What the ledger sums to.
	LedgerOnHand   int64
	LedgerReserved int64
	// What the open allocations sum to.
	Allocated int64
}

// RuleSetListParams pages rule sets, newest first.
type RuleSetListParams struct {
	// BeforeVersion pages: only versions below it (0 = newest page).
	BeforeVersion int
	Limit         int
}

// RoutingDecision is the receipt of one routing of an order: the rule-set
// version used and the routing.Explanation as JSON.
type RoutingDecision struct {
	OrderID        string
	RuleSetVersion int
	Explanation    []byte
	// Input is what routing was given, a routing.Case as JSON (the
	// request and the candidates with their availability); nil for
	// decisions stored before migration 0007.
	Input     []byte
	CreatedAt time.Time
}

// ListParams pages through a list ordered by code.
type ListParams struct {
	// After is the last code of the previous page ("" for the first page).
	After string
	// Limit is the page size; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// OrderListParams filters and pages orders. Zero values do not filter.
type OrderListParams struct {
	Channel string
	Status  order.Status
	// Query matches an order number, an external id (case-sensitive) or a
	// customer e-mail (case-insensitive) exactly, or any part of a
	// customer name: the name, case-folded by Go's strings.ToLower,
	// contains the query, folded alike, as a substring (spaces and
	// punctuation included; no wildcards). Each order is listed once,
	// however many ways it matches. A part of three characters or more is
	// looked up in a trigram index (migration 0013); a shorter one is
	// found by reading orders newest first (docs/console.md).
	Query        string
	PlacedAfter  *time.Time // placed_at >= PlacedAfter
	PlacedBefore *time.Time // placed_at < PlacedBefore
	// Backordered keeps orders with at least one backordered unit.
	Backordered bool
	// BeforeNumber pages: only orders with a smaller number (0 = first page).
	BeforeNumber int64
	Limit        int
}

// SecretsStatus counts the stored secrets (empty ones are not counted).
type SecretsStatus struct {
	// Key is the id of the key the store seals with; "" without one.
	Key string `json:"key"`
	// Plain are stored as given: written before a key was configured.
	Plain int `json:"plain"`
	// Current are sealed with the current key.
	Current int `json:"current"`
	// Previous are sealed with a previous key the store was given.
	Previous int `json:"previous"`
	// Unreadable are sealed with a key the store was not given, or were
	// altered; UnreadablePlaces names where (table.column/row).
	Unreadable       int      `json:"unreadable"`
	UnreadablePlaces []string `json:"unreadable_places,omitempty"`
}

// EventListParams filters and pages events.
type EventListParams struct {
	AfterSeq int64
	// OrderID, when set, returns one order's timeline.
	OrderID string
	Limit   int
}

// IdempotencyRecord remembers one Idempotency-Key and the response given.
type IdempotencyRecord struct {
	// Scope is who used the key for what: principal, method and path.
	Scope string
	Key   string
	// RequestHash is the SHA-256 of the request body (hex).
	RequestHash string
	// Status is the response status, 0 while the request is in progress,
	// IdempotencyApplied once it has committed a change but not yet
	// recorded its response.
	Status int
	// Body is the response body.
	Body      []byte
	CreatedAt time.Time
	LockedAt  time.Time
}

// Limit returns n clamped to [1, MaxLimit], with 0 meaning DefaultLimit.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// RowLimit is how many rows a list method fetches for a requested n: as
// Limit, but up to MaxLimit+1, because callers ask for one row more than
// the page they serve to learn whether another page follows. (Clamping
// that look-ahead row away made a full page of MaxLimit look like the
// last one.)
func RowLimit(n int) int {
	if n == MaxLimit+1 {
		return n
	}
	return Limit(n)
}

// IntakeQuery says what IntakeRead reads: the channel's order with the
// external id, the channel, and the SKUs' catalogue entries and balances.
type IntakeQuery struct {
	Channel, ExternalID string
	SKUs                []string
}

// AvailabilityView is what AvailabilityRead found. Its channel, location
// codes and balances may be shared with other readers (the store may keep
// them in memory): read them, never modify them.
type AvailabilityView struct {
	// Channel is the channel named, nil if none was or there is no such
	// channel.
	Channel *channel.Channel
	// Active are the codes of the active locations, sorted.
	Active []string
	// Balances are every balance of the SKUs, ordered by (sku, location),
	// with their figures only: UpdatedAt is not read (the read path has
	// no use for it, and on SQLite reading less is measurably faster).
	Balances []*inventory.Balance
}

// IntakeView is what IntakeRead found. Its Channel, Locations, RuleSet and
// Connectors may be shared with the store's cache and with other callers:
// read them, never change them.
type IntakeView struct {
	// Existing is the channel's order with the external id, nil if none.
	Existing *order.Order
	// Channel is the channel, nil if there is no such channel.
	Channel *channel.Channel
	// MissingSKUs are the SKUs asked for that the catalogue does not
	// have, sorted.
	MissingSKUs []string
	// Locations are every location, active or not, ordered by code.
	Locations []*inventory.Location
	// RuleSet is the active routing rule set, nil if none is.
	RuleSet *routing.RuleSet
	// Balances are every balance of the SKUs, ordered by (sku, location).
	Balances []*inventory.Balance
	// Connectors are every channel's connector configuration
	// (ChannelConnectorList without the polling state, job ids and
	// outcomes): which channels a stock change is pushed to, and as what.
	Connectors []*ChannelConnector
}
