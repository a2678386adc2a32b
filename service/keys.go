package service

import (
	"context"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/store"
)

// CreateAPIKey makes a new API key and returns the stored record and the
// secret, which exists nowhere else: show it once. The channel of a channel
// key and the location of a warehouse key must exist. It is an operator
// action (the CLI), so it takes no principal; CreateKey is the same for
// the API.
func (s *Service) CreateAPIKey(ctx context.Context, name string, role auth.Role, channelCode, location string) (*auth.APIKey, string, error) {
	return s.createAPIKey(ctx, orderly.SystemActor, name, role, channelCode, location)
}

// CreateKey is CreateAPIKey by a principal that may manage keys (admin),
// recorded as its actor.
func (s *Service) CreateKey(ctx context.Context, p auth.Principal, name string, role auth.Role, channelCode, location string) (*auth.APIKey, string, error) {
	if err := require(p, auth.PermKeysManage); err != nil {
		return nil, "", err
	}
	return s.createAPIKey(ctx, p.Actor(), name, role, channelCode, location)
}

func (s *Service) createAPIKey(ctx context.Context, actor, name string, role auth.Role, channelCode, location string) (*auth.APIKey, string, error) {
	k, secret, err := auth.NewAPIKey(name, role, channelCode, location, s.clock.Now())
	if err != nil {
		return nil, "", err
	}
	if channelCode != "" {
		if _, err := s.store.ChannelGet(ctx, channelCode); err != nil {
			if orderly.KindOf(err) == orderly.KindNotFound {
				return nil, "", orderly.Invalid("channel", "unknown channel %q", channelCode)
			}
			return nil, "", err
		}
	}
	if location != "" {
		if _, err := s.store.LocationGet(ctx, location); err != nil {
			if orderly.KindOf(err) == orderly.KindNotFound {
				return nil, "", orderly.Invalid("location", "unknown location %q", location)
			}
			return nil, "", err
		}
	}
	err = s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.APIKeyInsert(ctx, k); err != nil {
			return duplicateAs(err, "name", "a key named %q already exists", name)
		}
		return tx.EventInsert(ctx, s.event("api_key.created", "api_key", k.ID, "", actor,
			map[string]any{"name": k.Name, "role": k.Role, "channel": k.Channel, "location": k.Location}))
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// Authenticate returns the principal of an API key secret, or a
// KindUnauthorized error that does not say why (unknown, malformed and
// revoked keys look the same to a caller).
func (s *Service) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	unauthorized := orderly.Errorf(orderly.KindUnauthorized, "invalid API key")
	if len(secret) < len(auth.KeyPrefix)+8 || len(secret) > 200 {
		return auth.Principal{}, unauthorized
	}
	// The lookup is by the hash of the secret, so timing reveals nothing
	// about stored secrets.
	k, err := s.store.APIKeyGetByHash(ctx, auth.HashKey(secret))
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return auth.Principal{}, unauthorized
		}
		return auth.Principal{}, err
	}
	return k.Principal(), nil
}

// RevokeAPIKey revokes the key named name: from now on it authenticates
// nothing (at once on this process and, through PostgreSQL, on every
// node; a running SQLite server that cached the key refuses it within
// the store's key TTL, ten seconds). Revoking a revoked key changes nothing and
// returns it. An operator action (the CLI), so it takes no principal;
// RevokeKey is the same for the API.
func (s *Service) RevokeAPIKey(ctx context.Context, name string) (*auth.APIKey, error) {
	return s.revokeAPIKey(ctx, orderly.SystemActor, name)
}

// RevokeKey is RevokeAPIKey by a principal that may manage keys (admin),
// recorded as its actor. A principal may revoke the key it calls with.
func (s *Service) RevokeKey(ctx context.Context, p auth.Principal, name string) (*auth.APIKey, error) {
	if err := require(p, auth.PermKeysManage); err != nil {
		return nil, err
	}
	return s.revokeAPIKey(ctx, p.Actor(), name)
}

func (s *Service) revokeAPIKey(ctx context.Context, actor, name string) (*auth.APIKey, error) {
	var k *auth.APIKey
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		var revoked bool
		var err error
		if k, revoked, err = tx.APIKeyRevoke(ctx, name, s.clock.Now()); err != nil || !revoked {
			return err
		}
		return tx.EventInsert(ctx, s.event("api_key.revoked", "api_key", k.ID, "", actor,
			map[string]any{"name": k.Name, "role": k.Role}))
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ListAPIKeys returns every key, revoked ones too, ordered by name; never
// a secret (only its first characters). An operator action (the CLI).
func (s *Service) ListAPIKeys(ctx context.Context) ([]*auth.APIKey, error) {
	return s.store.APIKeyList(ctx)
}

// ListKeys is ListAPIKeys for a principal that may manage keys (admin).
func (s *Service) ListKeys(ctx context.Context, p auth.Principal) ([]*auth.APIKey, error) {
	if err := require(p, auth.PermKeysManage); err != nil {
		return nil, err
	}
	return s.store.APIKeyList(ctx)
}

// GetKey returns the key named name, revoked or not, for a principal that
// may manage keys (admin).
func (s *Service) GetKey(ctx context.Context, p auth.Principal, name string) (*auth.APIKey, error) {
	keys, err := s.ListKeys(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Name == name {
			return k, nil
		}
	}
	return nil, orderly.Errorf(orderly.KindNotFound, "no API key named %q", name)
}
