package sqlstore

// SetFilteredFew sets filteredFew for a test and returns a function that
// restores it. Not safe while other tests list orders.
func SetFilteredFew(n int) (restore func()) {
	old := filteredFew
	filteredFew = n
	return func() { filteredFew = old }
}
