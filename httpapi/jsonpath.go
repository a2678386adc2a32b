package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// encoding/json names a mistyped field by its dotted path without array
// indices ("lines.name") and an unknown field by its bare name ("qty"). A
// client with fifty lines needs "lines[37].name". The two functions below
// recover the full path from the body, which is valid JSON by then: the
// decoder checks the syntax of the whole value before it assigns anything.

// pathAt returns the JSON path of the value the decoder was at when it
// reported a type error at offset: a scalar ends exactly there, and a
// container's opening bracket does. It returns "" if no value matches.
func pathAt(body []byte, offset int64) string {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	// valueDone moves the innermost container past a finished value.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		after := dec.InputOffset()
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == '}' || delim == ']') {
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		if before < offset && offset <= after {
			return path()
		}
		if isDelim {
			stack = append(stack, &frame{array: delim == '[', wantKey: delim == '{'})
			continue
		}
		valueDone()
	}
}

// unknownFieldPath returns the path of the first field (in key order, for
// a stable answer) named name that type t has no field for, or "" if there
// is none.
func unknownFieldPath(body []byte, t reflect.Type, name string) string {
	return findUnknown(json.RawMessage(body), t, "", name)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func findUnknown(raw json.RawMessage, t reflect.Type, path, name string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "" // decodes itself: number, nullable, time.Time
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return ""
		}
		for i, it := range items {
			if p := findUnknown(it, t.Elem(), path+"["+strconv.Itoa(i)+"]", name); p != "" {
				return p
			}
		}
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := jsonField(t, k)
			if !ok {
				if k == name {
					return p
				}
				continue
			}
			if found := findUnknown(obj[k], ft, p, name); found != "" {
				return found
			}
		}
	}
	return ""
}

// jsonField finds the type of the field of struct t that encoding/json
// would decode key into (it matches names case-insensitively, and looks
// into embedded structs).
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := jsonField(et, key); ok {
					return ft, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}
