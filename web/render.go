package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/inventory"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is one parsed page: the layout with the page's blocks.
type page struct {
	t *template.Template
}

// baseFuncs are the template functions that do not depend on the viewer;
// "when" and "can" are bound per request (see render).
var baseFuncs = template.FuncMap{
	"money":    formatMoney,
	"when":     func(time.Time) string { return "" },
	"whenISO":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"can":      func(string) bool { return false },
	"worksAt":  func(string) bool { return false },
	"duration": formatDuration,
	"add":      func(a, b int64) int64 { return a + b },
	"int64":    func(n int) int64 { return int64(n) },
	"mulq":     func(a, b int64) int64 { return a * b },
	"sub":      func(a, b int64) int64 { return a - b },
	"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"km":       func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"short":    func(id string) string { return shortID(id) },
	"query":    func(kv ...string) template.URL { return template.URL(queryString(kv...)) }, //nolint:gosec // built from escaped parts
	"adjustForm": func(location, sku string, reasons []inventory.Reason, csrf string) adjustForm {
		return adjustForm{Location: location, SKU: sku, Reasons: reasons, CSRF: csrf}
	},
}

// adjustForm fills the shared stock adjustment form (_adjust.html).
type adjustForm struct {
	Location, SKU string
	Reasons       []inventory.Reason
	CSRF          string
}

// mustParsePages parses every page with the layout. A template that does
// not parse is a programming error, found by any test that builds a
// console.
func mustParsePages() map[string]*page {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*page{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue // the layout and partials (_*.html) go into every page
		}
		t := template.Must(template.New(base).Funcs(baseFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n))
		pages[base] = &page{t: t}
	}
	return pages
}

// staticHandler serves the embedded assets under /static/. They change
// only with the binary, so browsers may keep them for a day.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, ".md") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	V     *viewer
	Title string
	// Nav names the menu entry to mark as current.
	Nav   string
	Flash string
	Error string
	// Status is the HTTP status, shown on error pages.
	Status int
	Data   any
}

// render executes a page for the viewer into a buffer (so a template
// error is a clean 500, not half a page) and writes it with status.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, vw view) {
	p, ok := c.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	t, err := p.t.Clone()
	if err != nil {
		panic(err)
	}
	v := vw.V
	tz := time.UTC
	if v != nil && v.TZ != nil {
		tz = v.TZ
	}
	t.Funcs(template.FuncMap{
		"when": func(at time.Time) string {
			if at.IsZero() {
				return ""
			}
			return at.In(tz).Format("2006-01-02 15:04 MST")
		},
		"can": func(perm string) bool { return v != nil && v.Principal.Can(auth.Permission(perm)) },
		"worksAt": func(loc string) bool {
			return v != nil && v.Principal.Can(auth.PermFulfilmentManage) && v.Principal.WorksAt(loc)
		},
	})
	vw.Status = status
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", vw); err != nil {
		c.log.ErrorContext(r.Context(), "render console page", "page", name, "err", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// statusOf maps an error kind to the status of the page that reports it.
func statusOf(err error) int {
	switch orderly.KindOf(err) {
	case orderly.KindInvalid:
		return http.StatusUnprocessableEntity
	case orderly.KindNotFound:
		return http.StatusNotFound
	case orderly.KindConflict:
		return http.StatusConflict
	case orderly.KindUnauthorized:
		return http.StatusUnauthorized
	case orderly.KindForbidden:
		return http.StatusForbidden
	case orderly.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// message returns what a page may say about err: the error's own message
// (with its field errors) for a known kind, "internal error" otherwise.
func message(err error) string {
	var oe *orderly.Error
	if !errors.As(err, &oe) || statusOf(err) == http.StatusInternalServerError {
		return "Internal error. It has been logged."
	}
	msg := oe.Message
	for _, f := range oe.Fields {
		if msg != "" {
			msg += "; "
		}
		msg += f.Field + ": " + f.Detail
	}
	if msg == "" {
		msg = http.StatusText(statusOf(err))
	}
	return msg
}

// fail renders the error page for err, logging what is not the caller's
// fault.
func (c *console) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		c.log.ErrorContext(r.Context(), "console request failed", "route", r.Pattern, "err", err)
	}
	c.render(w, r, status, "error", view{V: v, Title: http.StatusText(status), Error: message(err)})
}

// symbols are the currency signs the console writes before an amount;
// other currencies are written as their code after it.
var symbols = map[string]string{"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩",
	"CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK ", "PLN": "PLN "}

// formatMoney writes minor units of a currency with its exponent, digit
// grouping and sign: 123456 GBP is £1,234.56, 1500 JPY is ¥1,500, 1234
// KWD is 1.234 KWD.
func formatMoney(minor int64, currency string) string {
	s := orderly.FormatAmount(minor, currency)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	num := b.String()
	if hasFrac {
		num += "." + frac
	}
	if neg {
		num = "−" + num
	}
	if sym, ok := symbols[currency]; ok {
		if neg {
			return "−" + sym + strings.TrimPrefix(num, "−")
		}
		return sym + num
	}
	return num + " " + currency
}

// formatDuration writes a duration in days, hours and minutes.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// shortID returns the last 8 characters of an id, for display (UUIDv7s
// share their first characters when made close together).
func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[len(id)-8:]
}

// asError is errors.As for *orderly.Error.
func asError(err error, target **orderly.Error) bool { return errors.As(err, target) }

// queryString builds "?k=v&…" from key, value pairs, leaving out empty
// values ("" when nothing is left).
func queryString(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}
