package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/orderimport"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// errImportRows makes `orderly import` exit 1 after printing the rows that
// were not imported.
var errImportRows = errors.New("some orders were not imported")

// importActor is who the changes of a command-line import are by.
const importActor = "cli:import"

// cmdImport runs `orderly import orders FILE --channel C [--format F]`:
// the file is parsed whole first (a file whose rows cannot be trusted
// imports nothing), then each order is captured in its own transaction
// against the local database, with a progress bar on a terminal, a summary
// and the per-row error report.
func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "orders" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: import needs a subcommand: orders", errUsage)
	}
	args = args[1:]
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	fs, db := newFlags("import orders", getenv, stderr)
	ch := fs.String("channel", "", "code of the channel the orders come from (required)")
	format := fs.String("format", "", "csv or jsonl (default: from the file's extension)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	// The flag package stops at the first argument that is not a flag:
	// take it as the file and go on with the flags after it.
	for fs.NArg() > 0 {
		if file != "" {
			return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
		}
		file = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if file == "" {
		return fmt.Errorf("%w: import orders needs a FILE", errUsage)
	}
	if *ch == "" {
		return fmt.Errorf("%w: import orders needs --channel", errUsage)
	}
	name := *format
	if name == "" {
		name = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	f, ok := orderimport.ParseFormat(name)
	if !ok {
		return fmt.Errorf("%w: cannot tell the format of %q: pass --format csv or --format jsonl", errUsage, file)
	}
	in, err := os.Open(file) //nolint:gosec // the operator names the file to import on the command line
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read only: nothing to lose on close

	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		svc := service.New(st, orderly.SystemClock{}, nil)
		records, err := orderimport.Parse(in, f, *ch, orderly.SystemClock{}.Now())
		if err != nil {
			var re *orderimport.RowError
			if errors.As(err, &re) {
				fmt.Fprintf(stderr, "%s: nothing imported: %s\n", file, re.Error())
				return fmt.Errorf("%w: the file is malformed", errImportRows)
			}
			return err
		}
		bar := newProgress(stdout, len(records))
		p := auth.Principal{Name: importActor, Role: auth.RoleAdmin}
		res, err := svc.ImportOrders(ctx, p, *ch, records, bar.set)
		bar.done()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d orders: %d created, %d already there, %d not imported\n",
			res.Orders, res.Created, res.Duplicates, res.Failed)
		if len(res.Errors) == 0 {
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ROW\tEXTERNAL_ID\tFIELD\tMESSAGE")
		for _, e := range res.Errors {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", e.Row, e.ExternalID, e.Field, e.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d of %d", errImportRows, res.Failed, res.Orders)
	})
}

// progress draws a progress bar on a terminal and nothing elsewhere (a
// pipe, a file, a test's buffer), so scripts read only the summary. A few
// lines of our own do: the bar is one line rewritten with \r.
type progress struct {
	w     io.Writer
	total int
	last  int // the last width drawn, to redraw only on change
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, total int) *progress {
	if !isTerminal(w) || total == 0 {
		return &progress{}
	}
	return &progress{w: w, total: total, last: -1}
}

const barWidth = 40

func (p *progress) set(done, total int) {
	if p.w == nil {
		return
	}
	filled := barWidth * done / total
	if filled == p.last && done != total {
		return
	}
	p.last = filled
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d orders", strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled), done, total)
}

func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
