// Package secret seals the secrets Orderly must be able to read back —
// channels' webhook secrets, connector credentials, outbound webhook
// signing secrets — with AES-256-GCM under the operator's key
// (ORDERLY_SECRET_KEY), so that a copy of the database (a backup, a dump,
// a disk) does not give them away. API keys and console passwords are not
// here: they are stored as hashes and never read back.
//
// A sealed value is text: Prefix, the id of the key that sealed it, and
// the base64 of nonce and ciphertext. The additional data is where the
// value lives (table, column, row), so a sealed value copied into another
// row does not open there. Values stored before a key was configured stay
// readable as they are, until `orderly secrets seal` seals them.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/orderly-oms/orderly"
)

// Prefix starts every sealed value.
const Prefix = "orderly-sealed:v1:"

// KeySize is the size of a key: AES-256.
const KeySize = 32

// Keyring holds the key that seals and every key that may open: the
// current one and, during a rotation, previous ones. A nil *Keyring seals
// nothing (no key configured) and opens only what is not sealed.
type Keyring struct {
	current string // id of the sealing key
	keys    map[string]cipher.AEAD
}

// NewKeyring returns a keyring that seals with current and opens with it
// and any of previous.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, raw := range append([][]byte{current}, previous...) {
		if len(raw) != KeySize {
			return nil, orderly.Errorf(orderly.KindInvalid, "a secret key is %d bytes, not %d", KeySize, len(raw))
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(raw)
		k.keys[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// ParseKey decodes a key written as base64 (standard or URL alphabet,
// padded or not) of 32 bytes — what `openssl rand -base64 32` prints.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == KeySize {
			return raw, nil
		}
	}
	return nil, orderly.Errorf(orderly.KindInvalid, "a secret key is the base64 of %d random bytes (openssl rand -base64 %d)", KeySize, KeySize)
}

// KeyID names a key in sealed values: the first 8 hex digits of its
// SHA-256, which says which key to open with and nothing about the key.
func KeyID(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:4])
}

// Current returns the id of the sealing key; "" without a keyring.
func (k *Keyring) Current() string {
	if k == nil {
		return ""
	}
	return k.current
}

// IsSealed reports whether a stored value is sealed.
func IsSealed(stored string) bool { return strings.HasPrefix(stored, Prefix) }

// SealedBy returns the id of the key a sealed value was sealed with, or ""
// if it is not sealed.
func SealedBy(stored string) string {
	if !IsSealed(stored) {
		return ""
	}
	id, _, _ := strings.Cut(stored[len(Prefix):], ":")
	return id
}

// Seal returns the stored form of plaintext at place (table.column/row).
// Without a keyring, and for an empty value (nothing to hide, and "no
// secret set" stays visible to queries), it is plaintext itself.
func (k *Keyring) Seal(place, plaintext string) (string, error) {
	if k == nil || plaintext == "" {
		return plaintext, nil
	}
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), []byte(place))
	return Prefix + k.current + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open returns the plaintext of a stored value at place: a value that is
// not sealed as it is; a sealed one opened with the key that sealed it. A
// value sealed with a key this keyring lacks, or altered, or moved from
// another place, is a KindInternal error naming the key, never the value.
func (k *Keyring) Open(place, stored string) (string, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	id, body, ok := strings.Cut(stored[len(Prefix):], ":")
	if !ok {
		return "", orderly.Errorf(orderly.KindInternal, "secret at %s: malformed sealed value", place)
	}
	var aead cipher.AEAD
	if k != nil {
		aead = k.keys[id]
	}
	if aead == nil {
		return "", orderly.Errorf(orderly.KindInternal, "secret at %s is sealed with key %s, which this process was not given (ORDERLY_SECRET_KEY, ORDERLY_SECRET_KEY_PREVIOUS)", place, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", orderly.Errorf(orderly.KindInternal, "secret at %s: malformed sealed value", place)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(place))
	if err != nil {
		return "", orderly.Errorf(orderly.KindInternal, "secret at %s does not open with key %s: altered, or sealed for another place", place, id)
	}
	return string(plain), nil
}
