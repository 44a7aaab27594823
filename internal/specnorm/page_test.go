package specnorm_test

import (
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/specnorm"
)

// A page may embed a complete OpenAPI document instead of the excerpt form;
// 3.1 constructs in it are mapped as for a plain document.
func TestFromPageFullDocument(t *testing.T) {
	tests := []struct {
		name, block string
		want        []string
		absent      []string
	}{
		{
			"3.0 document passes through",
			"openapi: 3.0.0\ninfo: {title: Doc Title, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200': {description: ok}",
			[]string{"openapi: 3.0.3", "title: Doc Title", "operationId: getX"},
			[]string{"Page Title"},
		},
		{
			"3.1 document is mapped to 3.0",
			"openapi: 3.1.0\ninfo: {title: Doc Title, version: '1', license: {name: MIT}}\npaths: {}\ncomponents:\n  schemas:\n    S:\n      type: [string, 'null']\n      examples: [a, b]",
			[]string{"openapi: 3.0.3", "nullable: true", "example: a", "name: MIT"},
			[]string{"'null'", "examples"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := "<!-- https://docs.example.com/x.md -->\n# Page Title\n\n## OpenAPI\n\n````yaml x.json GET /x\n" + tt.block + "\n````\n"
			n, err := specnorm.FromPage([]byte(page))
			if err != nil {
				t.Fatal(err)
			}
			checkFragments(t, render(t, n), tt.want, tt.absent)
		})
	}
}

func TestFromPageErrors(t *testing.T) {
	nested := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		nested += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	tests := []struct{ name, block, want string }{
		{"empty block", "", "empty document"},
		{"only a comment", "# nothing", "empty document"},
		{"not YAML", "paths: [", "YAML block"},
		{"unsupported version", "openapi: 2.0.0\npaths: {}", "unsupported version"},
		{"aliases expand past the bound", "openapi: 3.0.0\nx-bomb:\n" + indent(nested, "  "), "nodes once aliases are expanded"},
		{"an alias inside itself", "openapi: 3.0.0\nx-loop: &l\n  again: *l", "inside its own anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := "# T\n\n````yaml\n" + tt.block + "\n````\n"
			_, err := specnorm.FromPage([]byte(page))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzFromPage feeds arbitrary pages to the normaliser: it must return a
// document or an error, never panic or run away (aliases are bounded).
func FuzzFromPage(f *testing.F) {
	f.Add([]byte("# T\n\n````yaml x post /u\npaths:\n  path: /u\n  method: post\n````"))
	f.Add([]byte("# T\n\n````yaml\nopenapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n````"))
	f.Add([]byte("````yaml\na: &a [1]\nb: [*a, *a]\n````"))
	f.Fuzz(func(t *testing.T, page []byte) {
		n, err := specnorm.FromPage(page)
		if err == nil && n == nil {
			t.Fatal("no document and no error")
		}
	})
}
