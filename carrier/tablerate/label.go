package tablerate

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/orderly-oms/orderly"
)

// The label is 4×6 in (101.6×152.4 mm), the common thermal label size.
const (
	labelW = 101.6
	labelH = 152.4
	margin = 5.0
)

// labelData is what a label shows.
type labelData struct {
	Carrier, Service, TrackingNumber string
	From, To                         orderly.Address
	WeightGrams                      int64
	Reference                        string
	Date                             time.Time
}

// addressLines renders an address as printed lines.
func addressLines(a orderly.Address) []string {
	var out []string
	for _, s := range []string{a.Name, a.Company, a.Line1, a.Line2} {
		if s != "" {
			out = append(out, s)
		}
	}
	city := strings.TrimSpace(strings.Join(nonEmpty(a.PostalCode, a.City), " "))
	if a.Region != "" {
		city = strings.TrimSpace(city + ", " + a.Region)
	}
	if city != "" {
		out = append(out, city)
	}
	return append(out, a.Country)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// renderLabel draws the label as a one-page PDF. compress=false keeps the
// content stream readable, for tests. The document's dates are the label
// date, so the same input gives the same bytes.
func renderLabel(d labelData, compress bool) ([]byte, error) {
	modules, err := Code128Modules(d.TrackingNumber)
	if err != nil {
		return nil, err
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: labelW, Ht: labelH}, OrientationStr: "P"})
	pdf.SetCompression(compress)
	pdf.SetCreationDate(d.Date)
	pdf.SetModificationDate(d.Date)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Label "+d.TrackingNumber, true)
	pdf.SetCreator("Orderly", true)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: Latin scripts print, others become '.'
	w := labelW - 2*margin

	// Header: carrier and service, date.
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(w, 8, tr(d.Carrier), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	pdf.CellFormat(w, 6, tr(d.Service), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	pdf.CellFormat(w, 4, d.Date.UTC().Format("2006-01-02"), "", 1, "L", false, 0, "")
	pdf.Line(margin, pdf.GetY()+1, labelW-margin, pdf.GetY()+1)
	pdf.Ln(3)

	// From, small.
	pdf.SetFont("Helvetica", "B", 7)
	pdf.CellFormat(w, 3.5, "FROM", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	for _, l := range addressLines(d.From) {
		pdf.CellFormat(w, 3.8, tr(l), "", 1, "L", false, 0, "")
	}
	pdf.Ln(3)

	// To, large, boxed.
	top := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 8)
	pdf.CellFormat(w, 4, "SHIP TO", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "B", 12)
	for _, l := range addressLines(d.To) {
		pdf.SetX(margin + 2)
		pdf.CellFormat(w-4, 5.5, tr(l), "", 1, "L", false, 0, "")
	}
	pdf.Rect(margin, top-1, w, pdf.GetY()-top+2, "D")
	pdf.Ln(3)

	pdf.SetFont("Helvetica", "", 8)
	info := fmt.Sprintf("Weight: %.3f kg", float64(d.WeightGrams)/1000)
	if d.Reference != "" {
		info += "    Ref: " + d.Reference
	}
	pdf.CellFormat(w, 4, tr(info), "", 1, "L", false, 0, "")

	// Barcode at the bottom: a quiet zone of 10 modules each side, the
	// module as wide as fits (0.25–0.5 mm keeps it scannable at 203 dpi).
	const barH = 22.0
	mod := min(0.5, w/float64(len(modules)+20))
	x := margin + (w-mod*float64(len(modules)))/2
	y := labelH - margin - barH - 8
	pdf.SetFillColor(0, 0, 0)
	for i := 0; i < len(modules); {
		if modules[i] == '0' {
			i++
			continue
		}
		j := i
		for j < len(modules) && modules[j] == '1' {
			j++
		}
		pdf.Rect(x+float64(i)*mod, y, float64(j-i)*mod, barH, "F")
		i = j
	}
	pdf.SetXY(margin, y+barH+1)
	pdf.SetFont("Courier", "B", 12)
	pdf.CellFormat(w, 6, d.TrackingNumber, "", 1, "C", false, 0, "")

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("label pdf: %w", err)
	}
	return buf.Bytes(), nil
}
