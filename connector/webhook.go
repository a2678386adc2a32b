package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"github.com/orderly-oms/orderly"
)

// SignBase64 returns the base64 HMAC-SHA256 of body keyed with secret: the
// signature Shopify and WooCommerce put in their webhook headers. Tests and
// fakes use it to sign payloads.
func SignBase64(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyBase64 checks that signature (a header's value, named by header in
// errors) is the base64 HMAC-SHA256 of body keyed with secret, in constant
// time. An empty secret, a missing or malformed signature or a mismatch is
// a KindUnauthorized error that says which, never what was expected.
func VerifyBase64(secret, header, signature string, body []byte) error {
	if secret == "" {
		return orderly.Errorf(orderly.KindUnauthorized, "the channel has no webhook secret; %s cannot be verified", header)
	}
	if signature == "" {
		return orderly.Errorf(orderly.KindUnauthorized, "missing %s header", header)
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return orderly.Errorf(orderly.KindUnauthorized, "malformed %s header", header)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return orderly.Errorf(orderly.KindUnauthorized, "%s does not match the body", header)
	}
	return nil
}
