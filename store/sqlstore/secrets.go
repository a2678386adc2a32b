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

// secretColumn is a column that holds secrets, and how to read its rows.
type secretColumn struct {
	table, column, key string
	place              func(id string) string
	settings           bool // a JSON object, sealed whole (sealSettings)
}

var secretColumns = []secretColumn{
	{"channels", "secret", "code", channelSecretPlace, false},
	{"webhook_subscriptions", "secret", "id", subscriptionSecretPlace, false},
	{"channel_integrations", "settings", "channel", settingsPlace, true},
}

// storedSecret is one non-empty secret as stored.
type storedSecret struct {
	col    secretColumn
	id     string
	stored string // the column's value
	sealed string // the sealed value in it, "" if it is not sealed
}

// storedSecrets reads every non-empty stored secret through c.
func storedSecrets(ctx context.Context, c conn) ([]storedSecret, error) {
	var out []storedSecret
	for _, col := range secretColumns {
		rs, err := c.query(ctx, `SELECT `+col.key+`, `+col.column+` FROM `+col.table+` ORDER BY `+col.key)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			x := storedSecret{col: col}
			if err := rs.Scan(&x.id, &x.stored); err != nil {
				rs.Close()
				return nil, err
			}
			x.sealed = x.stored
			if col.settings {
				var m map[string]string
				if err := json.Unmarshal([]byte(x.stored), &m); err != nil {
					rs.Close()
					return nil, err
				}
				if len(m) == 0 {
					continue // nothing to hide
				}
				x.sealed = ""
				if len(m) == 1 {
					x.sealed = m[sealedSettingsKey]
				}
			}
			if x.stored == "" {
				continue
			}
			if !secret.IsSealed(x.sealed) {
				x.sealed = ""
			}
			out = append(out, x)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// opens reports whether q's keys open x.
func (q *Querier) opens(x storedSecret) bool {
	if x.col.settings {
		_, err := q.openSettings(x.id, []byte(x.stored))
		return err == nil
	}
	_, err := q.seal.Open(x.col.place(x.id), x.stored)
	return err == nil
}

// reseal writes x again, sealed with q's current key, through c.
func (q *Querier) reseal(ctx context.Context, c conn, x storedSecret) error {
	var value string
	if x.col.settings {
		m, err := q.openSettings(x.id, []byte(x.stored))
		if err != nil {
			return err
		}
		if value, err = q.sealSettings(x.id, m); err != nil {
			return err
		}
	} else {
		plain, err := q.seal.Open(x.col.place(x.id), x.stored)
		if err != nil {
			return err
		}
		if value, err = q.seal.Seal(x.col.place(x.id), plain); err != nil {
			return err
		}
	}
	_, err := c.exec(ctx, `UPDATE `+x.col.table+` SET `+x.col.column+` = ? WHERE `+x.col.key+` = ?`, value, x.id)
	return err
}

// SecretsStatus implements store.Store.
func (s *Store) SecretsStatus(ctx context.Context) (store.SecretsStatus, error) {
	st := store.SecretsStatus{Key: s.seal.Current()}
	secrets, err := storedSecrets(ctx, s.read)
	if err != nil {
		return st, err
	}
	for _, x := range secrets {
		switch {
		case x.sealed == "":
			st.Plain++
		case !s.opens(x):
			st.Unreadable++
			st.UnreadablePlaces = append(st.UnreadablePlaces, x.col.place(x.id))
		case secret.SealedBy(x.sealed) == st.Key:
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
		secrets, err := storedSecrets(ctx, c)
		if err != nil {
			return err
		}
		c.touch(configKey) // the cache holds channels and connectors
		for _, x := range secrets {
			if x.sealed != "" && secret.SealedBy(x.sealed) == s.seal.Current() {
				continue
			}
			if err := s.reseal(ctx, c, x); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
