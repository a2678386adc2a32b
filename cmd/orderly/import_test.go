package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// TestImportCommand runs `orderly import orders` on a temporary SQLite
// database: good orders are captured, bad ones reported by row with exit
// status 1, a re-run creates nothing, and no progress bar is drawn when
// stdout is not a terminal.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "import.db")
	err := withStore(ctx, db, noEnv, true, func(st store.Store) error {
		svc := service.New(st, orderly.SystemClock{}, nil)
		admin := auth.Principal{Name: "test", Role: auth.RoleAdmin}
		if _, err := svc.CreateChannel(ctx, admin, &channel.Channel{Code: "web", Kind: channel.KindAPI, Name: "Web", Policy: channel.DefaultPolicy()}); err != nil {
			return err
		}
		if _, err := svc.CreateLocation(ctx, admin, &inventory.Location{Code: "wh", Name: "WH", Kind: inventory.LocationWarehouse, Active: true}); err != nil {
			return err
		}
		for _, s := range []string{"A", "B"} {
			if _, err := svc.CreateSKU(ctx, admin, &inventory.SKU{SKU: s, Name: s}); err != nil {
				return err
			}
			if _, _, err := svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh", SKU: s, Delta: 100, Reason: inventory.ReasonReceive}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.csv")
	write(t, good, "external_id,currency,sku,quantity,unit_price\nC-1,EUR,A,2,100\nC-1,EUR,B,1,100\nC-2,EUR,B,1,100\n")
	bad := filepath.Join(dir, "bad.txt")
	write(t, bad, `{"external_id":"C-3","currency":"EUR","lines":[{"sku":"A","quantity":1}]}`+"\n"+
		`{"external_id":"C-4","currency":"EUR","lines":[{"sku":"A","quantity":1},{"sku":"Z","quantity":1}]}`+"\n")

	imp := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"import", "orders"}, append(args, "--db", db)...), func(string) string { return "" },
			strings.NewReader(""), &out, io.Discard)
		return out.String(), err
	}
	out, err := imp(good, "--channel", "web")
	if err != nil || out != "2 orders: 2 created, 0 already there, 0 not imported\n" {
		t.Fatalf("good file: %v\n%q", err, out)
	}
	out, err = imp("--channel", "web", good)
	if err != nil || !strings.HasPrefix(out, "2 orders: 0 created, 2 already there") {
		t.Fatalf("again: %v\n%q", err, out)
	}
	out, err = imp(bad, "--channel", "web", "--format", "jsonl")
	if !errors.Is(err, errImportRows) || exitCode(err) != 1 {
		t.Fatalf("bad file: err %v", err)
	}
	if !strings.HasPrefix(out, "2 orders: 1 created, 0 already there, 1 not imported\n") ||
		!regexp.MustCompile(`(?m)^2\s+C-4\s+lines\[1\]\.sku\s+unknown SKU "Z"$`).MatchString(out) || strings.Contains(out, "\r") {
		t.Errorf("bad file output:\n%s", out)
	}
	if _, err := imp(bad, "--channel", "web"); exitCode(err) != 2 {
		t.Errorf("unknown extension without --format: %v", err)
	}
	if _, err := imp(good); exitCode(err) != 2 {
		t.Errorf("no --channel: %v", err)
	}
	if _, err := imp(good, "--channel", "nope"); err == nil || exitCode(err) != 1 {
		t.Errorf("unknown channel: %v", err)
	}
	broken := filepath.Join(dir, "broken.csv")
	write(t, broken, "external_id,currency,sku\nX,EUR,A\n")
	if _, err := imp(broken, "--channel", "web"); !errors.Is(err, errImportRows) {
		t.Errorf("a file without the quantity column: %v", err)
	}
	err = withStore(ctx, db, noEnv, false, func(st store.Store) error {
		list, err := st.OrderList(ctx, store.OrderListParams{Channel: "web", Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 3 {
			t.Errorf("%d orders stored, want 3 (C-1, C-2, C-3)", len(list))
		}
		for _, o := range list {
			if o.Policy == nil || o.Lines[0].Allocated != o.Lines[0].Quantity {
				t.Errorf("order %s: policy %v, line %+v", o.ExternalID, o.Policy, o.Lines[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProgressBar draws on a terminal-like writer only.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, 10)
	p.set(5, 10)
	p.done()
	if buf.Len() != 0 {
		t.Errorf("drew %q on a buffer", buf.String())
	}
	p = &progress{w: &buf, total: 4, last: -1}
	for i := 1; i <= 4; i++ {
		p.set(i, 4)
	}
	p.done()
	if !strings.Contains(buf.String(), "\r["+strings.Repeat("#", barWidth)+"] 4/4 orders") {
		t.Errorf("bar %q", buf.String())
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
