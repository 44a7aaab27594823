package specnorm_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fileup/fileup/internal/specnorm"
)

func render(t *testing.T, n *yaml.Node) string {
	t.Helper()
	b, err := specnorm.Render(n, "test")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const page = "# Demo Upload\n\n````yaml demo.json post /upload\n%s\n````\n"

func fromExcerpt(t *testing.T, excerpt string) (string, error) {
	t.Helper()
	n, err := specnorm.FromPage([]byte(strings.Replace(page, "%s", excerpt, 1)))
	if err != nil {
		return "", err
	}
	return render(t, n), nil
}

func TestExcerptConstructs(t *testing.T) {
	tests := []struct {
		name, excerpt string
		want          []string // fragments of the output
		absent        []string
	}{
		{
			"allOf unwrap, requiredProperties, body required",
			`paths:
  path: /upload
  method: post
  request:
    body:
      multipart/form-data:
        schemaArray:
          - type: object
            properties:
              file:
                allOf:
                  - type: string
                    format: binary
            required: true
            requiredProperties:
              - file`,
			[]string{"requestBody:\n        required: true", "file:\n                  type: string\n                  format: binary", "required:\n                - file"},
			[]string{"allOf", "requiredProperties"},
		},
		{
			"refIdentifier moves the schema to components",
			`paths:
  path: /upload
  method: post
  response:
    '400':
      application/json:
        schemaArray:
          - type: object
            properties:
              msg:
                allOf:
                  - type: string
            refIdentifier: '#/components/schemas/Problem'
        description: Bad request`,
			[]string{"$ref: '#/components/schemas/Problem'", "schemas:\n    Problem:\n      type: object", "description: Bad request"},
			[]string{"refIdentifier"},
		},
		{
			"anchors and aliases are expanded",
			`paths:
  path: /upload
  method: post
  response:
    '401':
      application/json:
        schemaArray:
          - type: object
            properties:
              ok:
                allOf:
                  - &flag
                    type: boolean
              again:
                allOf:
                  - *flag`,
			[]string{"ok:\n                    type: boolean", "again:\n                    type: boolean"},
			[]string{"&flag", "*flag"},
		},
		{
			"bearer security and servers",
			`paths:
  path: /upload
  method: post
  servers:
    - url: https://api.example.com
      description: Prod
  request:
    security:
      - title: BearerAuth
        parameters:
          header:
            Authorization:
              type: http
              scheme: bearer`,
			[]string{"servers:\n  - url: https://api.example.com\n    description: Prod", "security:\n  - BearerAuth: []", "BearerAuth:\n      type: http\n      scheme: bearer", "title: Demo Upload"},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := fromExcerpt(t, tt.excerpt)
			if err != nil {
				t.Fatal(err)
			}
			checkFragments(t, out, tt.want, tt.absent)
		})
	}
}

func TestExcerptErrors(t *testing.T) {
	tests := []struct{ name, excerpt, where string }{
		{"no method", "paths:\n  path: /x", "path and method are required"},
		{"unknown field", "paths:\n  path: /x\n  method: get\n  callbacks: {}", "/paths/callbacks"},
		{"two schemas", "paths:\n  path: /x\n  method: post\n  request:\n    body:\n      application/json:\n        schemaArray: [{type: object}, {type: string}]", "/paths/request/body/application~1json/schemaArray"},
		{"parameters", "paths:\n  path: /x\n  method: get\n  request:\n    parameters:\n      query:\n        q: {type: string}", "/paths/request/parameters/query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fromExcerpt(t, tt.excerpt); err == nil || !strings.Contains(err.Error(), tt.where) {
				t.Errorf("error %v, want one naming %q", err, tt.where)
			}
		})
	}
	if _, err := specnorm.FromPage([]byte("# No spec here\n")); err == nil {
		t.Error("a page without a YAML block was accepted")
	}
}

func from31(t *testing.T, schema string) (string, error) {
	t.Helper()
	doc := "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    S:\n" + indent(schema, "      ")
	n, err := specnorm.FromOpenAPI([]byte(doc))
	if err != nil {
		return "", err
	}
	return render(t, n), nil
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestOpenAPI31Mappings(t *testing.T) {
	tests := []struct {
		name, schema string
		want         []string
		absent       []string
	}{
		{"nullable type", "type: [string, 'null']", []string{"type: string", "nullable: true"}, []string{"'null'"}},
		{"single type in an array", "type: [integer]", []string{"type: integer"}, []string{"nullable"}},
		{"const", "const: fixed", []string{"enum:\n        - fixed"}, []string{"const"}},
		{"examples array", "type: string\nexamples: [first, second]", []string{"example: first"}, []string{"examples", "second"}},
		{"contentMediaType", "type: string\ncontentMediaType: image/png", []string{"format: binary"}, []string{"contentMediaType"}},
		{"base64", "type: string\ncontentEncoding: base64", []string{"format: byte"}, []string{"contentEncoding"}},
		{"exclusiveMinimum", "type: integer\nexclusiveMinimum: 0", []string{"minimum: 0", "exclusiveMinimum: true"}, nil},
		{"nested in properties", "type: object\nproperties:\n  a:\n    type: [string, 'null']\n    const: x", []string{"nullable: true", "enum:"}, []string{"const"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := from31(t, tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "openapi: 3.0.3") {
				t.Errorf("version not rewritten:\n%s", out)
			}
			checkFragments(t, out, tt.want, tt.absent)
		})
	}
}

func TestOpenAPI31Unmappable(t *testing.T) {
	tests := []struct{ name, schema, where string }{
		{"two types", "type: [string, integer]", "/components/schemas/S/type"},
		{"prefixItems", "type: array\nprefixItems: [{type: string}]", "/components/schemas/S/prefixItems"},
		{"if/then", "if: {type: string}\nthen: {minLength: 1}", "/components/schemas/S/if"},
		{"nested patternProperties", "type: object\nproperties:\n  a:\n    patternProperties: {}", "/components/schemas/S/properties/a/patternProperties"},
		{"other encoding", "type: string\ncontentEncoding: base32", "/components/schemas/S/contentEncoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := from31(t, tt.schema); err == nil || !strings.Contains(err.Error(), tt.where) {
				t.Errorf("error %v, want one naming %s", err, tt.where)
			}
		})
	}
	_, err := specnorm.FromOpenAPI([]byte("openapi: 3.1.0\ninfo: {title: t, version: '1'}\nwebhooks: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "/webhooks") {
		t.Errorf("webhooks: %v", err)
	}
	if _, err := specnorm.FromOpenAPI([]byte("swagger: '2.0'\n")); err == nil {
		t.Error("Swagger 2.0 accepted")
	}
}

func TestApplyOverlayIsStrict(t *testing.T) {
	root, err := specnorm.FromOpenAPI([]byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = specnorm.ApplyOverlay(root, []byte("overlay: 1.1.0\ninfo: {title: x, version: '1'}\nactions:\n  - target: $.components.schemas.Missing\n    update: {format: int64}\n"))
	if err == nil {
		t.Error("an overlay action matching nothing was accepted")
	}
	if err := specnorm.ApplyOverlay(root, []byte("overlay: 1.1.0\ninfo: {title: x, version: '1'}\nactions:\n  - target: $.info\n    update: {title: Changed}\n")); err != nil {
		t.Fatal(err)
	}
	if out := render(t, root); !strings.Contains(out, "title: Changed") {
		t.Errorf("overlay not applied:\n%s", out)
	}
}

// checkFragments asserts that out contains every want and no absent.
func checkFragments(t *testing.T, out string, want, absent []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, a := range absent {
		if strings.Contains(out, a) {
			t.Errorf("output still has %q:\n%s", a, out)
		}
	}
}
