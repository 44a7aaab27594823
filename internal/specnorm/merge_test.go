package specnorm_test

import (
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/specnorm"
)

// doc builds a small OpenAPI 3.0 document from its paths and schemas.
func doc(t *testing.T, paths, schemas string) *specnorm.Input {
	t.Helper()
	src := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n  - url: https://api.example.com\n    description: API\npaths:\n" + indent(paths, "  ")
	if schemas != "" {
		src += "components:\n  schemas:\n" + indent(schemas, "    ")
	}
	return docSrc(t, src)
}

// docSrc normalises an OpenAPI document's source.
func docSrc(t *testing.T, src string) *specnorm.Input {
	t.Helper()
	n, err := specnorm.FromOpenAPI([]byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return &specnorm.Input{Doc: n}
}

func merge(t *testing.T, docs ...*specnorm.Input) (string, []specnorm.Divergence, error) {
	t.Helper()
	inputs := make([]specnorm.Input, len(docs))
	for i, d := range docs {
		inputs[i] = *d
		inputs[i].Name = string(rune('a'+i)) + ".md"
	}
	n, div, err := specnorm.Merge(inputs)
	if err != nil {
		return "", nil, err
	}
	return render(t, n), div, nil
}

const (
	getA   = "/a:\n  get:\n    operationId: getA\n    responses:\n      '200': {description: ok}"
	postA  = "/a:\n  post:\n    operationId: postA\n    responses:\n      '200': {description: ok}"
	getB   = "/b:\n  get:\n    operationId: getB\n    responses:\n      '200': {description: ok}"
	sizeS  = "Size:\n  type: integer\n  format: int64\n  description: bytes\n  example: 1"
	sizeEx = "Size:\n  type: integer\n  format: int64\n  description: bytes\n  example: 2"
	sizeTy = "Size:\n  type: string\n  description: bytes"
)

func TestMergeUnions(t *testing.T) {
	out, div, err := merge(t, doc(t, getA, sizeS), doc(t, postA+"\n"+getB, sizeS))
	if err != nil {
		t.Fatal(err)
	}
	if len(div) != 0 {
		t.Errorf("identical definitions reported as divergent: %v", div)
	}
	checkFragments(t, out, []string{"operationId: getA", "operationId: postA", "operationId: getB", "    Size:\n      type: integer"}, nil)
	if strings.Count(out, "Size:") != 1 {
		t.Errorf("Size defined more than once:\n%s", out)
	}
}

func TestMergeKeepsFirstDocumentation(t *testing.T) {
	_, div, err := merge(t, doc(t, getA, sizeS), doc(t, getB, sizeEx))
	if err != nil {
		t.Fatal(err)
	}
	want := specnorm.Divergence{Pointer: "/components/schemas/Size", Kept: "a.md", Other: "b.md", At: "/components/schemas/Size/example"}
	if len(div) != 1 || div[0] != want {
		t.Errorf("divergences = %+v, want [%+v]", div, want)
	}
}

func TestMergeErrors(t *testing.T) {
	tests := []struct {
		name string
		a, b *specnorm.Input
		want []string
	}{
		{"same operation twice", doc(t, getA, ""), doc(t, getA, ""),
			[]string{"GET /a", "a.md#/paths/~1a/get", "b.md#/paths/~1a/get"}},
		{"schema defined differently", doc(t, getA, sizeS), doc(t, getB, sizeTy),
			[]string{"a.md#/components/schemas/Size", "b.md#/components/schemas/Size", "first difference at b.md#/components/schemas/Size/type"}},
		{"a property named description is not documentation",
			doc(t, getA, "S:\n  type: object\n  properties:\n    description: {type: string}"),
			doc(t, getB, "S:\n  type: object\n  properties:\n    other: {type: string}"),
			[]string{"/components/schemas/S/properties/description"}},
		{"a different server", doc(t, getA, ""),
			docSrc(t, "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n  - url: https://other.example.com\npaths: {}\n"),
			[]string{"a.md#/servers", "b.md#/servers", "/servers/0/url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := merge(t, tt.a, tt.b)
			if err == nil {
				t.Fatal("merged")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if _, _, err := specnorm.Merge(nil); err == nil {
		t.Error("merged nothing")
	}
}

func TestMergeTagsAndServers(t *testing.T) {
	src := func(server, tag string) string {
		return "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n  - url: https://api.example.com\n    description: " + server + "\ntags:\n  - name: Shared\n  - name: " + tag + "\npaths: {}\n"
	}
	out, div, err := merge(t, docSrc(t, src("API", "One")), docSrc(t, src("Other words", "Two")))
	if err != nil {
		t.Fatal(err)
	}
	checkFragments(t, out, []string{"- name: Shared\n  - name: One\n  - name: Two", "description: API"}, []string{"Other words"})
	if len(div) != 1 || div[0].At != "/servers/0/description" {
		t.Errorf("divergences = %+v, want the server's description", div)
	}
}
