package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/orderly-oms/orderly"
)

// User is a person who signs in to the console. A user has a role, like
// an API key, and a warehouse user works at one location. The password
// itself is never stored: only its argon2id hash is.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Role  Role   `json:"role"`
	// Location scopes a warehouse user.
	Location string `json:"location,omitempty"`
	// TimeZone is the IANA name the console shows times in ("" is UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// PasswordHash is the PHC-format argon2id hash of the password.
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// Principal returns the principal a signed-in user acts as.
func (u *User) Principal() Principal {
	return Principal{Name: "user:" + u.Email, Role: u.Role, Location: u.Location}
}

// MinPasswordLength is the shortest password a user may have. Generated
// passwords are longer.
const MinPasswordLength = 12

// NormalizeEmail returns the form an e-mail address is stored and looked
// up in: trimmed and lower-cased, so that sign-in ignores case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NewUser validates a new user's fields and hashes its password. A
// console user cannot have the channel role: channels talk to the API.
func NewUser(email string, role Role, location, password string, now time.Time) (*User, error) {
	email = NormalizeEmail(email)
	var p orderly.Problems
	switch {
	case email == "":
		p.Add("email", "is required")
	case len(email) > 254 || strings.Count(email, "@") != 1 || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") ||
		strings.ContainsAny(email, " \t\r\n<>\"'"):
		p.Add("email", "is not an e-mail address")
	}
	if !role.Valid() || role == RoleChannel {
		p.Add("role", "must be one of admin, agent, warehouse, finance, viewer")
	}
	if role == RoleWarehouse && location == "" {
		p.Add("location", "is required for a warehouse user")
	}
	if role != RoleWarehouse && location != "" {
		p.Add("location", "only a warehouse user has a location")
	}
	if len(password) < MinPasswordLength {
		p.Add("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 1024 {
		p.Add("password", "is longer than 1024 bytes")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	return &User{ID: orderly.NewID(), Email: email, Role: role, Location: location, PasswordHash: hash, CreatedAt: now}, nil
}

// GeneratePassword returns a random password of 20 characters (about 100
// bits), for a new user to be shown once.
func GeneratePassword() (string, error) {
	var raw [15]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// The argon2id parameters: OWASP's recommended minimum (19 MiB, two
// passes, one lane). They are stored in every hash, so raising them later
// leaves existing hashes verifiable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the PHC-format argon2id hash of password with a
// random salt: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(password string) (string, error) {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt[:], argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash made by
// HashPassword, comparing in constant time. A malformed hash never
// matches.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// DummyPasswordHash returns a hash to check against when a sign-in names
// no known user, so that an unknown e-mail address takes as long to refuse
// as a wrong password. It is made once, on first use.
var DummyPasswordHash = sync.OnceValue(func() string {
	h, err := HashPassword("orderly-dummy-password")
	if err != nil {
		panic(err)
	}
	return h
})

// Session is a signed-in browser. The token is the cookie's value and is
// never stored: the session is found by its SHA-256 hash (the token has
// 256 random bits, so a fast hash is enough).
type Session struct {
	// Hash is the hex SHA-256 of the token.
	Hash       string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is when the session ends unless it is used before: each
	// use moves it to LastSeenAt + SessionIdle, never past CreatedAt +
	// SessionMaxAge.
	ExpiresAt time.Time
}

// Session lifetimes: a session idle for SessionIdle ends, and none lasts
// longer than SessionMaxAge.
const (
	SessionIdle   = 12 * time.Hour
	SessionMaxAge = 7 * 24 * time.Hour
)

// NewSession starts a session for a user and returns it with the token
// to set in the cookie.
func NewSession(userID string, now time.Time) (*Session, string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	return &Session{Hash: HashToken(token), UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionIdle)}, token, nil
}

// HashToken returns the stored form of a session token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Extend returns the session's expiry after a use at now.
func (s *Session) Extend(now time.Time) time.Time {
	if end := s.CreatedAt.Add(SessionMaxAge); now.Add(SessionIdle).After(end) {
		return end
	}
	return now.Add(SessionIdle)
}

// CSRFToken returns the token a form of the session must carry. It is
// derived from the session token, which only the browser holding the
// cookie knows, so another site cannot compute it, and it needs no
// storage of its own.
func CSRFToken(sessionToken string) string {
	h := sha256.Sum256([]byte("orderly-csrf:" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// CheckCSRF reports, in constant time, whether got is the CSRF token of
// the session token.
func CheckCSRF(sessionToken, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(got)) == 1
}
