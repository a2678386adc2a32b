// Package auth owns who may do what: roles, API keys and the permission
// table that every route consults. It is pure: keys are generated and hashed
// here, stored through the store package, and checked by the HTTP layer.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
)

// Role is what a key or user may do.
type Role string

// The roles.
const (
	RoleAdmin     Role = "admin"     // everything
	RoleAgent     Role = "agent"     // customer service: orders and their actions
	RoleWarehouse Role = "warehouse" // fulfilment at its own locations
	RoleFinance   Role = "finance"   // payments and refunds
	RoleViewer    Role = "viewer"    // read-only
	RoleChannel   Role = "channel"   // intake and reading for one channel only
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAgent, RoleWarehouse, RoleFinance, RoleViewer, RoleChannel}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Permission is one thing a route needs.
type Permission string

// The permissions. Routes name the permission they need; the table below
// says which roles hold it.
const (
	PermOrdersRead      Permission = "orders:read"
	PermOrdersCreate    Permission = "orders:create"
	PermOrdersManage    Permission = "orders:manage" // hold, release, cancel
	PermReferenceRead   Permission = "reference:read"
	PermReferenceManage Permission = "reference:manage" // channels, locations, SKUs
	PermEventsRead      Permission = "events:read"
	PermInventoryRead   Permission = "inventory:read"
	// PermInventoryManage covers adjustments, counts and snapshots; a
	// warehouse principal holds it for its own location only.
	PermInventoryManage Permission = "inventory:manage"
	// PermFulfilmentManage covers a fulfilment order's accept, pick,
	// pack, ship and reject, and a shipment's tracking events; a warehouse
	// principal holds it for its own location only.
	PermFulfilmentManage Permission = "fulfilment:manage"
	// PermIntegrationsManage covers outbound webhook subscriptions, their
	// delivery logs and replays, and the job queue's dead-letter list.
	PermIntegrationsManage Permission = "integrations:manage"
	// PermKeysManage covers making, listing and revoking API keys: whoever
	// holds it can make a key of any role, so only admin does.
	PermKeysManage Permission = "keys:manage"
)

var grants = map[Role][]Permission{
	RoleAdmin: {PermOrdersRead, PermOrdersCreate, PermOrdersManage, PermReferenceRead, PermReferenceManage, PermEventsRead,
		PermInventoryRead, PermInventoryManage, PermFulfilmentManage, PermIntegrationsManage, PermKeysManage},
	RoleAgent:     {PermOrdersRead, PermOrdersCreate, PermOrdersManage, PermReferenceRead, PermEventsRead, PermInventoryRead},
	RoleWarehouse: {PermOrdersRead, PermReferenceRead, PermInventoryRead, PermInventoryManage, PermFulfilmentManage},
	RoleFinance:   {PermOrdersRead, PermReferenceRead, PermEventsRead, PermInventoryRead},
	RoleViewer:    {PermOrdersRead, PermReferenceRead, PermEventsRead, PermInventoryRead},
	RoleChannel:   {PermOrdersRead, PermOrdersCreate, PermInventoryRead},
}

// Can reports whether role holds perm.
func (r Role) Can(perm Permission) bool {
	for _, p := range grants[r] {
		if p == perm {
			return true
		}
	}
	return false
}

// Principal is whoever is calling: the key (or, later, the user) with its
// role and scope.
type Principal struct {
	// Name identifies the principal in timelines: "key:<name>" or "user:<email>".
	Name string
	Role Role
	// Channel is the one channel a channel-role principal may act for.
	Channel string
	// Location is the one location a warehouse-role principal works at.
	Location string
}

// Actor returns the principal's name for event records.
func (p Principal) Actor() string { return p.Name }

// Can reports whether the principal holds perm.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }

// SeesChannel reports whether the principal may see orders of channel code:
// a channel key sees only its own channel.
func (p Principal) SeesChannel(code string) bool {
	return p.Role != RoleChannel || p.Channel == code
}

// WorksAt reports whether the principal may act on stock at location: a
// warehouse principal only at its own location, every other role that
// holds the permission anywhere.
func (p Principal) WorksAt(location string) bool {
	return p.Role != RoleWarehouse || p.Location == location
}

// APIKey is a stored API key. The secret itself is shown once at creation
// and never stored; only its SHA-256 hash is. (Keys carry 160 random bits,
// so a fast hash is enough: there is nothing to brute-force.)
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Channel scopes a channel key.
	Channel string `json:"channel,omitempty"`
	// Location scopes a warehouse key.
	Location string `json:"location,omitempty"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"-"`
	// Prefix is the secret's first characters, to recognise a key in lists.
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// KeyPrefix starts every Orderly API key, so secret scanners can find
// leaked keys.
const KeyPrefix = "ork_"

// NewAPIKey generates a key with the given name, role and scope. It returns
// the record to store and the secret to show once.
func NewAPIKey(name string, role Role, channelCode, location string, now time.Time) (*APIKey, string, error) {
	var p orderly.Problems
	if name == "" {
		p.Add("name", "is required")
	}
	orderly.CheckText(&p, "name", name, 100)
	if !role.Valid() {
		p.Add("role", "must be one of admin, agent, warehouse, finance, viewer, channel")
	}
	if role == RoleChannel && channelCode == "" {
		p.Add("channel", "is required for a channel key")
	}
	if role != RoleChannel && channelCode != "" {
		p.Add("channel", "only a channel key has a channel")
	}
	if role == RoleWarehouse && location == "" {
		p.Add("location", "is required for a warehouse key")
	}
	if role != RoleWarehouse && location != "" {
		p.Add("location", "only a warehouse key has a location")
	}
	if channelCode != "" && !channel.ValidCode(channelCode) {
		p.Add("channel", "is not a valid channel code")
	}
	if err := p.Err(); err != nil {
		return nil, "", err
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	secret := KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	k := &APIKey{
		ID: orderly.NewID(), Name: name, Role: role, Channel: channelCode, Location: location,
		Hash: HashKey(secret), Prefix: secret[:len(KeyPrefix)+6], CreatedAt: now,
	}
	return k, secret, nil
}

// HashKey returns the stored form of a key secret.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Principal returns the principal a key authenticates.
func (k *APIKey) Principal() Principal {
	return Principal{Name: "key:" + k.Name, Role: k.Role, Channel: k.Channel, Location: k.Location}
}
