package secret_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/secret"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, secret.KeySize) }

func TestSealOpen(t *testing.T) {
	k1, err := secret.NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k1.Seal("channels.secret/web", "shpss_abc")
	if err != nil {
		t.Fatal(err)
	}
	if !secret.IsSealed(sealed) || strings.Contains(sealed, "shpss_abc") || secret.SealedBy(sealed) != k1.Current() {
		t.Fatalf("sealed %q", sealed)
	}
	again, _ := k1.Seal("channels.secret/web", "shpss_abc")
	if again == sealed {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := k1.Open("channels.secret/web", sealed); err != nil || got != "shpss_abc" {
		t.Errorf("open = %q, %v", got, err)
	}
	// Bound to its place.
	if _, err := k1.Open("channels.secret/other", sealed); orderly.KindOf(err) != orderly.KindInternal {
		t.Errorf("opened at another place: %v", err)
	}
	// Tampered.
	raw, _ := base64.RawStdEncoding.DecodeString(sealed[strings.LastIndex(sealed, ":")+1:])
	raw[len(raw)-1] ^= 1
	tampered := sealed[:strings.LastIndex(sealed, ":")+1] + base64.RawStdEncoding.EncodeToString(raw)
	if _, err := k1.Open("channels.secret/web", tampered); err == nil {
		t.Error("a tampered value opened")
	}
	// Another key: refused, naming the key, never the value.
	k2, _ := secret.NewKeyring(key(2))
	_, err = k2.Open("channels.secret/web", sealed)
	if err == nil || !strings.Contains(err.Error(), k1.Current()) || strings.Contains(err.Error(), "shpss") {
		t.Errorf("other key: %v", err)
	}
	// Rotation: the new key seals, the previous still opens.
	rot, _ := secret.NewKeyring(key(2), key(1))
	if got, err := rot.Open("channels.secret/web", sealed); err != nil || got != "shpss_abc" {
		t.Errorf("previous key: %q, %v", got, err)
	}
	if s, _ := rot.Seal("x", "y"); secret.SealedBy(s) != k2.Current() {
		t.Error("a rotated keyring seals with the previous key")
	}
	// Without a keyring: plaintext in, plaintext out; sealed values refused.
	var none *secret.Keyring
	if s, err := none.Seal("x", "plain"); s != "plain" || err != nil {
		t.Errorf("nil keyring sealed: %q %v", s, err)
	}
	if s, err := none.Open("x", "plain"); s != "plain" || err != nil {
		t.Errorf("nil keyring opened plaintext: %q %v", s, err)
	}
	if _, err := none.Open("x", sealed); err == nil {
		t.Error("nil keyring opened a sealed value")
	}
	// Nothing to hide: the empty value stays empty.
	if s, _ := k1.Seal("x", ""); s != "" {
		t.Errorf("empty sealed to %q", s)
	}
	// Malformed.
	for _, bad := range []string{secret.Prefix, secret.Prefix + "abc", secret.Prefix + k1.Current() + ":!!", secret.Prefix + k1.Current() + ":AA"} {
		if _, err := k1.Open("x", bad); orderly.KindOf(err) != orderly.KindInternal {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	raw := key(7)
	for _, s := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw) + "\n"} {
		if got, err := secret.ParseKey(s); err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(key(1)[:16]), strings.Repeat("a", 64)} {
		if _, err := secret.ParseKey(s); orderly.KindOf(err) != orderly.KindInvalid {
			t.Errorf("%q: %v, want invalid", s, err)
		}
	}
	if _, err := secret.NewKeyring(key(1)[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}

// FuzzOpen: whatever is stored, Open answers a value or an error.
func FuzzOpen(f *testing.F) {
	k, _ := secret.NewKeyring(key(3))
	s, _ := k.Seal("p", "v")
	f.Add(s)
	f.Add("plain")
	f.Add(secret.Prefix + "x:y")
	f.Fuzz(func(t *testing.T, stored string) {
		got, err := k.Open("p", stored)
		if err == nil && secret.IsSealed(stored) && stored != s && got == "" {
			t.Errorf("%q opened to nothing", stored)
		}
	})
}
