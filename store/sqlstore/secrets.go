package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/secret"
	"github.com/orderly-oms/orderly/store"
)

// The secrets the store keeps readable are sealed under the operator's key
// when one is given (secret.Keyring, docs/operations.md "Secrets at
// rest"): channels.secret, webhook_subscriptions.secret and the whole of
// channel_integrations.settings (connector credentials among ids and
// switches: the API shows none of their values anyway). Each is sealed for
// its place — table, column and row — so a sealed value copied to another
// row does not open there.

func channelSecretPlace(code string) string    { return "channels.secret/" + code }
func subscriptionSecretPlace(id string) string { return "webhook_subscriptions.secret/" + id }
func settingsPlace(channel string) string      { return "channel_integrations.settings/" + channel }

// sealedSettingsKey holds sealed settings in the column's JSON object (it
// stays an object: jsonb on PostgreSQL). No setting can be named so: the
// connectors' keys hold no colon.
const sealedSettingsKey = "orderly:sealed"

// UseSecrets implements store.Store: from now on the store seals what it
// writes with k's current key and opens what it reads with any of k's
// keys. Call it before the store is used.
func (s *Store) UseSecrets(k *secret.Keyring) {
	s.seal = k
}

// sealSettings returns the column value of a connector's settings.
func (q *Querier) sealSettings(channel string, settings map[string]string) (string, error) {
	raw, err := jsonText(settings)
	if err != nil || q.seal == nil {
		return raw, err
	}
	sealed, err := q.seal.Seal(settingsPlace(channel), raw)
	if err != nil {
		return "", err
	}
	return jsonText(map[string]string{sealedSettingsKey: sealed})
}

// openSettings decodes a connector's settings column, sealed or not.
func (q *Querier) openSettings(channel string, raw []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	sealed, ok := m[sealedSettingsKey]
	if !ok || len(m) != 1 {
		return m, nil
	}
	plain, err := q.seal.Open(settingsPlace(channel), sealed)
	if err != nil {
		return nil, err
	}
	m = nil
	if err := json.Unmarshal([]byte(plain), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// storedSecret is one secret as stored, with what seals it again.
type storedSecret struct {
	place  string
	stored string // the value as stored: plaintext or sealed
	plain  func() (string, error)
	reseal func(ctx context.Context, c conn) error
}

// storedSecrets reads every stored secret through c.
func (q *Querier) storedSecrets(ctx context.Context, c conn) ([]storedSecret, error) {
	var out []storedSecret
	add := func(query, table, column, key string, place func(string) string, isSettings bool) error {
		rs, err := c.query(ctx, query)
		if err != nil {
			return err
		}
		type row struct{ id, value string }
		var rows []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.id, &r.value); err != nil {
				rs.Close()
				return err
			}
			rows = append(rows, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, r := range rows {
			s := storedSecret{place: place(r.id), stored: r.value}
			if isSettings {
				var m map[string]string
				if err := json.Unmarshal([]byte(r.value), &m); err != nil {
					return err
				}
				if len(m) == 0 {
					continue // nothing to hide
				}
				s.stored = m[sealedSettingsKey]
				if len(m) != 1 || s.stored == "" {
					s.stored = r.value // not sealed
				}
				s.plain = func() (string, error) {
					m, err := q.openSettings(r.id, []byte(r.value))
					if err != nil {
						return "", err
					}
					return jsonText(m)
				}
			} else {
				if r.value == "" {
					continue
				}
				s.plain = func() (string, error) { return q.seal.Open(s.place, r.value) }
			}
			s.reseal = func(ctx context.Context, c conn) error {
				plain, err := s.plain()
				if err != nil {
					return err
				}
				var value string
				if isSettings {
					var m map[string]string
					if err := json.Unmarshal([]byte(plain), &m); err != nil {
						return err
					}
					value, err = q.sealSettings(r.id, m)
				} else {
					value, err = q.seal.Seal(s.place, plain)
				}
				if err != nil {
					return err
				}
				_, err = c.exec(ctx, `UPDATE `+table+` SET `+column+` = ? WHERE `+key+` = ?`, value, r.id)
				return err
			}
			out = append(out, s)
		}
		return nil
	}
	if err := add(`SELECT code, secret FROM channels ORDER BY code`, "channels", "secret", "code", channelSecretPlace, false); err != nil {
		return nil, err
	}
	if err := add(`SELECT id, secret FROM webhook_subscriptions ORDER BY id`, "webhook_subscriptions", "secret", "id", subscriptionSecretPlace, false); err != nil {
		return nil, err
	}
	if err := add(`SELECT channel, settings FROM channel_integrations ORDER BY channel`, "channel_integrations", "settings", "channel", settingsPlace, true); err != nil {
		return nil, err
	}
	return out, nil
}

// SecretsStatus implements store.Store.
func (s *Store) SecretsStatus(ctx context.Context) (store.SecretsStatus, error) {
	st := store.SecretsStatus{Key: s.seal.Current()}
	secrets, err := s.storedSecrets(ctx, s.read)
	if err != nil {
		return st, err
	}
	current := s.seal.Current()
	for _, x := range secrets {
		switch {
		case !secret.IsSealed(x.stored):
			st.Plain++
		case func() bool { _, err := x.plain(); return err != nil }():
			st.Unreadable++
			st.UnreadablePlaces = append(st.UnreadablePlaces, x.place)
		case secret.SealedBy(x.stored) == current:
			st.Current++
		default:
			st.Previous++
		}
	}
	return st, nil
}

// SecretsSeal implements store.Store.
func (s *Store) SecretsSeal(ctx context.Context) (int, error) {
	if s.seal == nil {
		return 0, orderly.Errorf(orderly.KindInvalid, "no secret key: set ORDERLY_SECRET_KEY to seal secrets")
	}
	n := 0
	err := s.retryTx(ctx, func(c conn) error {
		n = 0
		secrets, err := s.storedSecrets(ctx, c)
		if err != nil {
			return err
		}
		c.touch(configKey) // the cache holds channels and connectors
		for _, x := range secrets {
			if secret.SealedBy(x.stored) == s.seal.Current() {
				continue
			}
			if err := x.reseal(ctx, c); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
