package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/secret"
	"github.com/orderly-oms/orderly/store"
)

// testSecretsAtRest: the secrets the store keeps readable (a channel's
// webhook secret, a connector's settings, a subscription's signing secret)
// are kept as given without a key, sealed by SecretsSeal and on every
// write once a key is given, read back as given with any key of the
// keyring, unreadable without the key that sealed them, and moved to a new
// key by SecretsSeal.
func testSecretsAtRest(t *testing.T, s store.Store) {
	keyring := func(ks ...byte) *secret.Keyring {
		var raws [][]byte
		for _, k := range ks {
			raws = append(raws, bytes.Repeat([]byte{k}, secret.KeySize))
		}
		k, err := secret.NewKeyring(raws[0], raws[1:]...)
		ok(t, "keyring", err)
		return k
	}
	status := func(step string, want store.SecretsStatus) {
		t.Helper()
		got, err := s.SecretsStatus(ctx)
		ok(t, step+": status", err)
		places := got.UnreadablePlaces
		got.UnreadablePlaces = nil
		if got.Plain != want.Plain || got.Current != want.Current || got.Previous != want.Previous || got.Unreadable != want.Unreadable {
			t.Errorf("%s: status %+v, want %+v", step, got, want)
		}
		if len(places) != want.Unreadable {
			t.Errorf("%s: unreadable at %v", step, places)
		}
	}
	// Every secret reads back as written.
	readable := func(step string) {
		t.Helper()
		for _, code := range []string{"web", "shop"} {
			c, err := s.ChannelGet(ctx, code)
			ok(t, step+": channel", err)
			if c.Secret != "shh-"+code {
				t.Errorf("%s: channel %s secret %q", step, code, c.Secret)
			}
		}
		cs, err := s.ChannelList(ctx, store.ListParams{Limit: 10})
		ok(t, step+": channels", err)
		listed := map[string]string{}
		for _, c := range cs {
			listed[c.Code] = c.Secret
		}
		if listed["shop"] != "shh-shop" || listed["web"] != "shh-web" || listed["bare"] != "" {
			t.Errorf("%s: listed %v", step, listed)
		}
		cn, err := s.ChannelConnectorGet(ctx, "shop")
		ok(t, step+": connector", err)
		if cn.Settings["access_token"] != "shpat_1" || cn.Settings["item.A"] != "808950810" || len(cn.Settings) != 2 {
			t.Errorf("%s: settings %v", step, cn.Settings)
		}
		all, err := s.ChannelConnectorList(ctx)
		ok(t, step+": connectors", err)
		if len(all) != 1 || all[0].Settings["access_token"] != "shpat_1" {
			t.Errorf("%s: connectors %+v", step, all)
		}
		sub, err := s.WebhookSubscriptionGet(ctx, "s1")
		ok(t, step+": subscription", err)
		subs, err := s.WebhookSubscriptionList(ctx, false, store.ListParams{Limit: 10})
		ok(t, step+": subscriptions", err)
		if sub.Secret != "whsec_abc" || len(subs) != 1 || subs[0].Secret != "whsec_abc" {
			t.Errorf("%s: subscription secret %q", step, sub.Secret)
		}
	}

	// Written before any key: kept as given.
	ok(t, "channel", s.ChannelInsert(ctx, NewChannel("web")))
	bareChannel := NewChannel("bare")
	bareChannel.Secret, bareChannel.HasSecret = "", false
	ok(t, "no-secret channel", s.ChannelInsert(ctx, bareChannel))
	ok(t, "shop", s.ChannelInsert(ctx, NewChannel("shop")))
	_, err := s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", BaseURL: "https://a.example", Enabled: true, PollInterval: time.Minute,
		Settings: map[string]string{"access_token": "shpat_1", "item.A": "808950810"}, CreatedAt: T0, UpdatedAt: T0})
	ok(t, "connector", err)
	ok(t, "subscription", s.WebhookSubscriptionInsert(ctx, &store.WebhookSubscription{ID: "s1", URL: "https://example.com/hook",
		Events: []string{"order.*"}, Secret: "whsec_abc", Active: true, CreatedAt: T0, UpdatedAt: T0}))
	readable("plain")
	status("plain", store.SecretsStatus{Plain: 4})
	_, err = s.SecretsSeal(ctx)
	wantKind(t, "seal without a key", err, orderly.KindInvalid)

	// A key: what was there still reads; SecretsSeal seals it all.
	s.UseSecrets(keyring(1))
	readable("key 1, before sealing")
	n, err := s.SecretsSeal(ctx)
	ok(t, "seal", err)
	if n != 4 {
		t.Errorf("sealed %d, want 4", n)
	}
	status("sealed", store.SecretsStatus{Current: 4})
	readable("sealed")
	// New writes are sealed at once.
	c, err := s.ChannelGet(ctx, "web")
	ok(t, "get", err)
	c.Secret = "shh-web"
	c.UpdatedAt = at(1)
	ok(t, "update", s.ChannelUpdate(ctx, c))
	ok(t, "a channel written with the key", s.ChannelInsert(ctx, NewChannel("later")))
	status("written with key 1", store.SecretsStatus{Current: 5})

	// Without the key they cannot be read: they are sealed at rest.
	s.UseSecrets(nil)
	_, err = s.ChannelGet(ctx, "web")
	wantKind(t, "channel without the key", err, orderly.KindInternal)
	_, err = s.ChannelConnectorGet(ctx, "shop")
	wantKind(t, "connector without the key", err, orderly.KindInternal)
	_, err = s.WebhookSubscriptionGet(ctx, "s1")
	wantKind(t, "subscription without the key", err, orderly.KindInternal)
	got, err := s.SecretsStatus(ctx)
	ok(t, "status without the key", err)
	if got.Unreadable != 5 || !slices.Contains(got.UnreadablePlaces, "channel_integrations.settings/shop") {
		t.Errorf("status without the key: %+v", got)
	}
	bare, err := s.ChannelGet(ctx, "bare")
	ok(t, "a channel without a secret reads without the key", err)
	if bare.HasSecret {
		t.Error("an empty secret reads as set")
	}

	// Rotation: key 2 seals, key 1 still opens; SecretsSeal moves all to key 2.
	s.UseSecrets(keyring(2, 1))
	readable("rotating")
	status("rotating", store.SecretsStatus{Previous: 5})
	n, err = s.SecretsSeal(ctx)
	ok(t, "reseal", err)
	if n != 5 {
		t.Errorf("resealed %d, want 5", n)
	}
	status("rotated", store.SecretsStatus{Current: 5})
	n, err = s.SecretsSeal(ctx)
	ok(t, "reseal again", err)
	if n != 0 {
		t.Errorf("resealed %d again, want 0", n)
	}
	s.UseSecrets(keyring(1))
	status("old key only", store.SecretsStatus{Unreadable: 5})
	s.UseSecrets(keyring(2))
	readable("key 2")
}
