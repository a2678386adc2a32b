package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/store"
)

// TestSecretsCommand: a channel secret stored before any key is reported
// unencrypted; `secrets seal` with ORDERLY_SECRET_KEY seals it; serve then
// refuses to start without that key and starts with it; a rotation seals
// it again with the new key, after which the old key alone cannot open it.
func TestSecretsCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "secrets.db")
	k1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	runWith := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--db", db), func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
		return out.String(), err
	}
	err := withStore(context.Background(), db, noEnv, true, func(st store.Store) error {
		now := time.Now().UTC()
		return st.ChannelInsert(context.Background(), &channel.Channel{Code: "shop", Kind: channel.KindShopify, Name: "Shop",
			Secret: "shpss_plain", Policy: channel.DefaultPolicy(), CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runWith(nil, "secrets", "status"); err != nil || !strings.Contains(out, "unencrypted 1") || !strings.Contains(out, "key         none") {
		t.Fatalf("status before a key: %v\n%s", err, out)
	}
	if _, err := runWith(nil, "secrets", "seal"); err == nil {
		t.Error("sealed without a key")
	}
	one := map[string]string{"ORDERLY_SECRET_KEY": k1}
	if out, err := runWith(one, "secrets", "seal"); err != nil || !strings.Contains(out, "sealed 1 secrets") || !strings.Contains(out, "unencrypted 0") {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	// The value at rest is sealed: the store without the key cannot read it.
	err = withStore(context.Background(), db, noEnv, false, func(st store.Store) error {
		_, err := st.ChannelGet(context.Background(), "shop")
		return err
	})
	if err == nil {
		t.Error("the channel's secret reads without the key")
	}

	// serve refuses to start without the key, starts with it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, noEnv, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot be opened") || !strings.Contains(err.Error(), "channels.secret/shop") {
		t.Errorf("serve without the key: %v", err)
	}
	startEnv(t, one, "--db", db).stop(t)

	// Rotation: the new key seals, the old one still opens until sealed again.
	rot := map[string]string{"ORDERLY_SECRET_KEY": k2, "ORDERLY_SECRET_KEY_PREVIOUS": k1}
	if out, err := runWith(rot, "secrets", "status"); err != nil || !strings.Contains(out, "0 with the current key, 1 with a previous one") {
		t.Fatalf("status while rotating: %v\n%s", err, out)
	}
	if out, err := runWith(rot, "secrets", "seal"); err != nil || !strings.Contains(out, "sealed 1 secrets") {
		t.Fatalf("reseal: %v\n%s", err, out)
	}
	if out, err := runWith(one, "secrets", "status"); err == nil || !strings.Contains(out, "cannot open channels.secret/shop") {
		t.Errorf("old key after rotation: %v\n%s", err, out)
	}
	// A malformed key is a usage error, before anything is opened.
	if _, err := runWith(map[string]string{"ORDERLY_SECRET_KEY": "not-a-key"}, "secrets", "status"); !errors.Is(err, errUsage) {
		t.Errorf("bad key: %v", err)
	}
	if _, err := runWith(map[string]string{"ORDERLY_SECRET_KEY_PREVIOUS": k1}, "secrets", "status"); !errors.Is(err, errUsage) {
		t.Errorf("a previous key without a current one: %v", err)
	}
}
