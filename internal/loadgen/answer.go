package loadgen

import (
	"bytes"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
)

// scanLookup reads each item's sku and available from an availability
// answer without parsing the rest: the 400 locations' figures of a 20-SKU
// answer (~40 KB) are what the lookup does not check, and parsing them,
// even only to skip them, was a fifth of the machine's CPU in an
// availability run — the generator shares the cores with the server it
// measures. An item is the only object whose first member is "sku" (in
// JSON text the bytes {"sku": cannot occur inside a string, whose quotes
// are escaped), and the server writes "available" second. ok is false if
// an item does not read so; every fullDecodeEvery-th answer is also
// decoded in full and compared.
func scanLookup(answer []byte) (items []lookupItem, ok bool) {
	const (
		itemStart = `{"sku":`
		available = `,"available":`
	)
	for {
		i := bytes.Index(answer, []byte(itemStart))
		if i < 0 {
			return items, bytes.HasPrefix(answer, []byte(`{"items":[`)) || items != nil
		}
		answer = answer[i+len(itemStart):]
		end := stringEnd(answer)
		if end < 0 {
			return nil, false
		}
		var it lookupItem
		if jsonv2.Unmarshal(answer[:end], &it.SKU) != nil {
			return nil, false
		}
		answer = answer[end:]
		if !bytes.HasPrefix(answer, []byte(available)) {
			return nil, false
		}
		answer = answer[len(available):]
		n := 0
		for n < len(answer) && (answer[n] == '-' || answer[n] >= '0' && answer[n] <= '9') {
			n++
		}
		var err error
		if it.Available, err = strconv.ParseInt(string(answer[:n]), 10, 64); err != nil {
			return nil, false
		}
		items = append(items, it)
	}
}

// stringEnd returns the length of the JSON string at the start of b,
// quotes included, or -1 if b does not start with a whole one.
func stringEnd(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
