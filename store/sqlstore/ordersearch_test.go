package sqlstore_test

import (
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store/sqlstore"
	"github.com/orderly-oms/orderly/store/storetest"
)

// TestOrderSearchFTSWithFilters runs the search contract on SQLite with
// every filtered search looked up in the FTS5 table: the contract's few
// orders would otherwise send each through the filters' indexes.
func TestOrderSearchFTSWithFilters(t *testing.T) {
	defer sqlstore.SetFilteredFew(0)()
	storetest.OrderSearch(t, dbtest.SQLite(t))
}
