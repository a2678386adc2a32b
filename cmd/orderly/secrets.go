package main

import (
	"context"
	"fmt"
	"io"

	"github.com/orderly-oms/orderly/store"
)

// cmdSecrets runs `orderly secrets status` and `orderly secrets seal`: how
// the stored secrets are kept, and sealing them all with the current key
// (after setting a key for the first time, or during a rotation).
func cmdSecrets(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "status" && sub != "seal" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: secrets needs a subcommand: status or seal", errUsage)
	}
	fs, db := newFlags("secrets "+sub, getenv, stderr)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		if sub == "seal" {
			n, err := st.SecretsSeal(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sealed %d secrets\n", n)
		}
		s, err := st.SecretsStatus(ctx)
		if err != nil {
			return err
		}
		key := s.Key
		if key == "" {
			key = "none (ORDERLY_SECRET_KEY is not set)"
		}
		fmt.Fprintf(stdout, "key         %s\nsealed      %d with the current key, %d with a previous one\nunencrypted %d\nunreadable  %d\n",
			key, s.Current, s.Previous, s.Plain, s.Unreadable)
		for _, p := range s.UnreadablePlaces {
			fmt.Fprintf(stdout, "  cannot open %s\n", p)
		}
		if s.Unreadable > 0 {
			return fmt.Errorf("%d secrets cannot be opened with the keys given", s.Unreadable)
		}
		return nil
	})
}
