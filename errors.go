package orderly

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that every layer can react to it without
// knowing where it came from; the HTTP API maps each kind to one status in a
// single table.
type Kind int

// The error kinds. The zero value is KindInternal: an error with no kind is
// a fault of ours, logged and shown to users only as "internal error".
const (
	KindInternal     Kind = iota // a bug or an unexpected failure (500)
	KindInvalid                  // the input breaks a rule (422)
	KindNotFound                 // the thing asked for does not exist (404)
	KindConflict                 // the request clashes with the current state (409)
	KindUnauthorized             // no or bad credentials (401)
	KindForbidden                // credentials without the right (403)
	KindUnavailable              // a dependency is down or busy; retry later (503)
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "unauthorized", "forbidden", "unavailable"}

// String returns the kind's snake_case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Sentinels for errors.Is: errors.Is(err, orderly.ErrNotFound) is true for
// any *Error of kind KindNotFound anywhere in err's chain.
var (
	ErrInvalid      = &Error{Kind: KindInvalid, Message: "invalid"}
	ErrNotFound     = &Error{Kind: KindNotFound, Message: "not found"}
	ErrConflict     = &Error{Kind: KindConflict, Message: "conflict"}
	ErrUnauthorized = &Error{Kind: KindUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Kind: KindForbidden, Message: "forbidden"}
	ErrUnavailable  = &Error{Kind: KindUnavailable, Message: "unavailable"}
)

// FieldError names one field of the input and what is wrong with it. Field is
// a JSON path as the client sent it, e.g. "lines[2].quantity".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error is an error with a kind and a message that is safe to show to the
// user who caused it. Fields lists the offending input fields, if any.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	// Code is an optional machine-readable reason, e.g. "invalid_transition".
	Code string
}

// Error returns the message, followed by the field errors.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Detail
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Is reports whether target is an *Error of the same kind, so the sentinels
// above match any error of their kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Code == "" || t.Code == e.Code)
}

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a KindInvalid error naming one field.
func Invalid(field, format string, args ...any) *Error {
	d := fmt.Sprintf(format, args...)
	return &Error{Kind: KindInvalid, Message: field + ": " + d, Fields: []FieldError{{Field: field, Detail: d}}}
}

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Problems collects field errors during validation so a client hears about
// every bad field at once, not one per round trip.
type Problems struct {
	Fields []FieldError
}

// Add records that field is wrong.
func (p *Problems) Add(field, format string, args ...any) {
	p.Fields = append(p.Fields, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// Err returns nil if nothing was added, else a KindInvalid *Error listing
// every field.
func (p *Problems) Err() error {
	if len(p.Fields) == 0 {
		return nil
	}
	msg := "invalid input"
	if len(p.Fields) == 1 {
		msg = p.Fields[0].Field + ": " + p.Fields[0].Detail
	}
	return &Error{Kind: KindInvalid, Message: msg, Fields: p.Fields}
}
