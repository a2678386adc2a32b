package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUsersCreate(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "users.db")
	env := func(k string) string {
		if k == "ORDERLY_DB" {
			return db
		}
		return ""
	}
	runCmd := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	out, err := runCmd("", "users", "create", "--email", "ada@example.com", "--role", "agent")
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9_-]{20}\n$`).MatchString(out) {
		t.Fatalf("users create printed %q, %v; want the one-time password alone", out, err)
	}
	out, err = runCmd("a long enough passphrase\n", "users", "create", "--email", "bob@example.com", "--role", "viewer", "--password-stdin")
	if err != nil || strings.Contains(out, "passphrase") {
		t.Fatalf("users create --password-stdin: %q, %v", out, err)
	}
	for _, args := range [][]string{
		{"users", "create", "--email", "ADA@example.com", "--role", "agent"},
		{"users", "create", "--email", "w@example.com", "--role", "warehouse"},
		{"users", "create", "--email", "c@example.com", "--role", "channel"},
		{"users", "create", "--email", "s@example.com", "--role", "agent", "--password-stdin"},
	} {
		if _, err := runCmd("", args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	if _, err := runCmd("", "users"); exitCode(err) != 2 {
		t.Errorf("users without a subcommand: %v", err)
	}
}

var consoleAdminRE = regexp.MustCompile(`Console admin created: (\S+), password \(shown once\): (\S+)`)

// TestServeConsole starts `orderly serve` on an empty database: it prints
// the first admin's password once, and the console at / signs it in,
// beside the API.
func TestServeConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "console.db")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, func(string) string { return "" }, strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("run returned: %w", err))
		done <- err
	}()
	var base, email, password string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := consoleAdminRE.FindStringSubmatch(sc.Text()); m != nil {
			email, password = m[1], m[2]
		}
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" || password == "" {
		t.Fatalf("serve printed no address (%q) or no admin password", base)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if status != http.StatusOK || !strings.Contains(body, "Sign in") || m == nil {
		t.Fatalf("GET / signed out: %d", status)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<h1>Dashboard</h1>") {
		t.Fatalf("sign in as the first admin: %d", resp.StatusCode)
	}
	if status, _ := get("/healthz"); status != http.StatusOK {
		t.Errorf("/healthz beside the console: %d", status)
	}
	if status, body := get("/api/v1/orders"); status != http.StatusUnauthorized || !strings.Contains(body, "urn:orderly:problem") {
		t.Errorf("the API beside the console: %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
