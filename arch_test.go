package orderly_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/orderly-oms/orderly"

// domain lists the pure domain packages: they may import only the root
// package and one another. secret is pure as auth is (keys, sealing; no
// I/O), and the store seam names its keyring.
var domain = map[string]bool{"order": true, "channel": true, "inventory": true, "auth": true,
	"routing": true, "fulfilment": true, "payment": true, "returns": true, "notify": true, "analytics": true,
	"secret": true}

// TestImportArrows enforces the dependency rules of ARCHITECTURE.md on the
// non-test files of every package.
func TestImportArrows(t *testing.T) {
	imports := map[string]map[string]bool{} // package dir → module-internal imports
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == module {
				imports[dir]["."] = true
			} else if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				imports[dir][rest] = true
			} else {
				imports[dir]["ext:"+p] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 5 {
		t.Fatalf("found only %d packages; is the test running at the module root?", len(imports))
	}
	backends := []string{"sqlite", "postgres", "store/sqlstore"}
	for dir, imps := range imports {
		top := strings.Split(dir, "/")[0]
		for imp := range imps {
			bad := ""
			switch {
			case strings.HasPrefix(imp, "cmd/"):
				bad = "nothing imports a command"
			case dir == "." && !strings.HasPrefix(imp, "ext:"):
				bad = "the root package imports nothing of the module"
			case domain[top] && !strings.HasPrefix(imp, "ext:") && imp != "." && !domain[strings.Split(imp, "/")[0]]:
				bad = "domain packages import only the root package and other domain packages"
			case domain[top] && (imp == "ext:database/sql" || imp == "ext:net/http"):
				bad = "domain packages hold no SQL or HTTP"
			case dir == "store" && !strings.HasPrefix(imp, "ext:") && imp != "." && !domain[imp]:
				bad = "the store seam speaks domain types only"
			case (top == "service" || top == "httpapi" || top == "web") && slices.Contains(backends, imp):
				bad = "use the store seam, not a backend"
			case (top == "service" || domain[top]) && (imp == "httpapi" || imp == "web"):
				bad = "the core does not know its edges"
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", dir, imp, bad)
			}
		}
	}
}
