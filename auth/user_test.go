package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with the chosen parameters", h)
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Error("the password does not check against its hash")
	}
	for _, bad := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if CheckPassword(h, bad) {
			t.Errorf("%q checks against the hash", bad)
		}
	}
	again, _ := HashPassword("correct horse battery staple")
	if again == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, malformed := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=8,t=1,p=1$!!$aGFzaA", h + "$x"} {
		if CheckPassword(malformed, "x") {
			t.Errorf("malformed hash %q matched", malformed)
		}
	}
}

func TestNewUser(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	u, err := NewUser("  Ada@Example.COM ", RoleWarehouse, "wh-1", "correct horse battery staple", now)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ada@example.com" || u.Principal() != (Principal{Name: "user:ada@example.com", Role: RoleWarehouse, Location: "wh-1"}) {
		t.Errorf("user %+v", u)
	}
	for _, tc := range []struct {
		email, location, password string
		role                      Role
		field                     string
	}{
		{"", "", "correct horse battery staple", RoleAgent, "email"},
		{"not-an-address", "", "correct horse battery staple", RoleAgent, "email"},
		{"a@b<script>", "", "correct horse battery staple", RoleAgent, "email"},
		{"a@example.com", "", "correct horse battery staple", RoleChannel, "role"},
		{"a@example.com", "", "correct horse battery staple", "boss", "role"},
		{"a@example.com", "", "correct horse battery staple", RoleWarehouse, "location"},
		{"a@example.com", "wh-1", "correct horse battery staple", RoleAgent, "location"},
		{"a@example.com", "", "short", RoleAgent, "password"},
	} {
		_, err := NewUser(tc.email, tc.role, tc.location, tc.password, now)
		var oe *orderly.Error
		if !asOrderly(err, &oe) || oe.Kind != orderly.KindInvalid || len(oe.Fields) == 0 || oe.Fields[0].Field != tc.field {
			t.Errorf("NewUser(%q, %q, %q): %v, want invalid %s", tc.email, tc.role, tc.location, err, tc.field)
		}
	}
}

func asOrderly(err error, target **orderly.Error) bool { return errors.As(err, target) }

func TestSessionAndCSRF(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s, token, err := NewSession("u1", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 40 || s.Hash != HashToken(token) || s.Hash == token {
		t.Errorf("token %q, hash %q", token, s.Hash)
	}
	if got := s.Extend(now.Add(time.Hour)); !got.Equal(now.Add(time.Hour + SessionIdle)) {
		t.Errorf("extend after an hour: %v", got)
	}
	if got := s.Extend(now.Add(SessionMaxAge - time.Hour)); !got.Equal(now.Add(SessionMaxAge)) {
		t.Errorf("extend near the end: %v, want capped at the maximum age", got)
	}
	_, other, _ := NewSession("u1", now)
	if !CheckCSRF(token, CSRFToken(token)) || CheckCSRF(token, CSRFToken(other)) || CheckCSRF(token, "") || CSRFToken(token) == token {
		t.Error("CSRF tokens are not tied to their session")
	}
}
