package outbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
)

// Deliveries are signed per the Standard Webhooks specification
// (standardwebhooks.com): headers webhook-id (the delivery id, the same on
// every retry and replay, for the receiver to deduplicate),
// webhook-timestamp (Unix seconds of this attempt) and webhook-signature
// ("v1," and the base64 HMAC-SHA256 of "id.timestamp.body" keyed with the
// secret's bytes). A secret is "whsec_" followed by base64 of 24 to 64
// random bytes.

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a new random signing secret.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its key bytes.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) || len(key) < 24 || len(key) > 64 {
		return nil, orderly.Invalid("secret", "must be %q followed by base64 of 24 to 64 bytes", SecretPrefix)
	}
	return key, nil
}

// CheckSecret validates a secret's format (KindInvalid on "secret").
func CheckSecret(secret string) error {
	_, err := secretKey(secret)
	return err
}

// Sign returns the webhook-signature header value of one attempt.
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
