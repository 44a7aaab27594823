package specnorm_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/specnorm"
)

const baseSpec = `openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /up:
    post:
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                path: {type: string}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [size]
                properties:
                  size: {type: integer, format: int64}
                  url: {type: string}
        '401':
          description: no
`

func TestCompare(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(string) string
		what     string
		breaking bool
	}{
		{"new optional response field", func(s string) string {
			return strings.Replace(s, "url: {type: string}", "url: {type: string}\n                  etag: {type: string}", 1)
		}, "response 200 etag: field added", false},
		{"response field removed", func(s string) string {
			return strings.Replace(s, "\n                  url: {type: string}", "", 1)
		}, "response 200 url: field removed", true},
		{"new required request field", func(s string) string {
			return strings.Replace(strings.Replace(s, "required: [file]", "required: [file, token]", 1), "path: {type: string}", "path: {type: string}\n                token: {type: string}", 1)
		}, "request token: field added", true},
		{"request field made required", func(s string) string {
			return strings.Replace(s, "required: [file]", "required: [file, path]", 1)
		}, "request path: field became required", true},
		{"type changed", func(s string) string {
			return strings.Replace(s, "size: {type: integer, format: int64}", "size: {type: string}", 1)
		}, "response 200 size: type changed from integer to string", true},
		{"format changed", func(s string) string {
			return strings.Replace(s, "format: int64", "format: int32", 1)
		}, `format changed from "int64" to "int32"`, true},
		{"status removed", func(s string) string {
			return strings.Replace(s, "        '401':\n          description: no\n", "", 1)
		}, "response 401: response removed", true},
		{"status added", func(s string) string {
			return s + "        '413':\n          description: too big\n"
		}, "response 413: response added", false},
		{"operation added", func(s string) string {
			return s + "  /quota:\n    get:\n      responses:\n        '200':\n          description: ok\n        '401':\n          description: no\n"
		}, "GET /quota: operation added (responses 200, 401)", false},
		{"method added on a path", func(s string) string {
			return strings.Replace(s, "  /up:\n", "  /up:\n    get:\n      responses:\n        '200':\n          description: ok\n", 1)
		}, "GET /up: operation added (responses 200)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, err := specnorm.Compare([]byte(baseSpec), []byte(tt.edit(baseSpec)))
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, c := range changes {
				if strings.Contains(c.Where+": "+c.What, tt.what) {
					found = true
					if c.Breaking != tt.breaking {
						t.Errorf("%s: breaking = %v, want %v", c.What, c.Breaking, tt.breaking)
					}
				}
			}
			if !found {
				t.Errorf("no change %q in %+v", tt.what, changes)
			}
			var report bytes.Buffer
			n := specnorm.Report(&report, "spec", changes)
			if (n > 0) != tt.breaking {
				t.Errorf("Report counted %d breaking:\n%s", n, report.String())
			}
		})
	}
	changes, err := specnorm.Compare([]byte(baseSpec), []byte(baseSpec))
	if err != nil || len(changes) != 0 {
		t.Errorf("identical specs: %v, %v", changes, err)
	}
}
