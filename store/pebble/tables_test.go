package pebblestore

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestTableBytesAreDistinct: every table's first key byte is declared as
// a `t<Name> byte = 0x..` constant somewhere in this package; two tables
// sharing a byte would read each other's keys. The tables are spread over
// several files, so the check parses them all.
func TestTableBytesAreDistinct(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	owner := map[uint64]string{}
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typ, ok := vs.Type.(*ast.Ident)
				if !ok || typ.Name != "byte" || len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || len(name.Name) < 2 || name.Name[0] != 't' || !strings.HasPrefix(lit.Value, "0x") {
						continue
					}
					v, ok := constant.Uint64Val(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
					if !ok {
						t.Fatalf("%s = %s", name.Name, lit.Value)
					}
					if other, dup := owner[v]; dup {
						t.Errorf("tables %s and %s share the byte %#x", other, name.Name, v)
					}
					owner[v] = name.Name
					n++
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found %d table bytes; the declarations moved?", n)
	}
}
