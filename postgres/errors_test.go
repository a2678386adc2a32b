package postgres

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
)

func TestInterpretError(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code}) }
	for _, tt := range []struct {
		err  error
		kind orderly.Kind
		is   error
	}{
		{pgx.ErrNoRows, orderly.KindNotFound, nil},
		{pg("23505"), orderly.KindConflict, store.ErrDuplicate},
		{pg("23503"), orderly.KindInvalid, nil},
		{pg("23514"), orderly.KindInvalid, nil},
		{pg("40001"), orderly.KindUnavailable, &orderly.Error{Kind: orderly.KindUnavailable, Code: sqlstore.CodeRetry}},
		{pg("40P01"), orderly.KindUnavailable, &orderly.Error{Kind: orderly.KindUnavailable, Code: sqlstore.CodeRetry}},
		{pg("08006"), orderly.KindUnavailable, nil},
		{pg("53300"), orderly.KindUnavailable, nil},
		{pg("57P01"), orderly.KindUnavailable, nil},
		{pg("42P01"), orderly.KindInternal, nil},
		{io.ErrUnexpectedEOF, orderly.KindUnavailable, nil},
		{errors.New("something else"), orderly.KindInternal, nil},
	} {
		var got error
		if e := interpretError(tt.err); e != nil {
			got = e
		}
		if k := orderly.KindOf(got); k != tt.kind {
			t.Errorf("%v: kind %s, want %s", tt.err, k, tt.kind)
		}
		if tt.is != nil && !errors.Is(got, tt.is) {
			t.Errorf("%v: %v is not %v", tt.err, got, tt.is)
		}
	}
}
