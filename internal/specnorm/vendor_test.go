package specnorm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fileup/fileup/internal/specnorm"
)

// vendorRun is one `go run ./cmd/specnorm` line of generate.go.
type vendorRun struct {
	pages   []string
	overlay string
	out     string
}

// vendorRuns reads the specnorm invocations from generate.go, so that the
// tests build each spec from exactly the inputs go generate uses. Paths are
// relative to the module root.
func vendorRuns(t *testing.T) map[string]vendorRun {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "generate.go"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]vendorRun{}
	for _, line := range strings.Split(string(src), "\n") {
		args, ok := strings.CutPrefix(line, "//go:generate go run ./cmd/specnorm ")
		if !ok {
			continue
		}
		var r vendorRun
		f := strings.Fields(args)
		for i := 0; i+1 < len(f); i += 2 {
			switch f[i] {
			case "-in":
				r.pages = append(r.pages, f[i+1])
			case "-overlay":
				r.overlay = f[i+1]
			case "-out":
				r.out = f[i+1]
			default:
				t.Fatalf("generate.go: unknown specnorm flag %s", f[i])
			}
		}
		runs[filepath.Base(filepath.Dir(r.out))] = r
	}
	if len(runs) != 2 {
		t.Fatalf("generate.go runs specnorm for %d vendors, want 2", len(runs))
	}
	return runs
}

func readSource(t *testing.T, name string) specnorm.Source {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return specnorm.Source{Name: name, Data: b}
}

// The committed specs are exactly what the normaliser makes of the vendor
// pages and the overlays, and the only documentation that differs between
// a vendor's pages is what NORMALISATION.md (M3) lists.
func TestVendorSpecsRoundTrip(t *testing.T) {
	divergences := map[string][]string{
		"kie": {
			"/components/securitySchemes/BearerAuth: upstream.md's documentation kept, upstream-base64.md's differs at /components/securitySchemes/BearerAuth/bearerFormat",
			"/components/securitySchemes/BearerAuth: upstream.md's documentation kept, upstream-url.md's differs at /components/securitySchemes/BearerAuth/bearerFormat",
		},
		"evolink": {
			"/components/schemas/FileData: upstream.md's documentation kept, upstream-base64.md's differs at /components/schemas/FileData/properties/file_name/example",
			"/components/schemas/FileData: upstream.md's documentation kept, upstream-url.md's differs at /components/schemas/FileData/properties/file_name/example",
			"/servers: upstream.md's documentation kept, upstream-quota.md's differs at /servers/0/description",
			"/components/securitySchemes/bearerAuth: upstream.md's documentation kept, upstream-quota.md's differs at /components/securitySchemes/bearerAuth/description",
		},
	}
	for vendor, run := range vendorRuns(t) {
		t.Run(vendor, func(t *testing.T) {
			var pages []specnorm.Source
			for _, p := range run.pages {
				pages = append(pages, readSource(t, p))
			}
			overlay := readSource(t, run.overlay)
			got, div, err := specnorm.Build(pages, &overlay)
			if err != nil {
				t.Fatal(err)
			}
			want := readSource(t, run.out)
			if !bytes.Equal(got, want.Data) {
				t.Errorf("%s is not the normaliser's output: run go generate ./...", run.out)
			}
			var lines []string
			for _, d := range div {
				lines = append(lines, d.String())
			}
			if !slices.Equal(lines, divergences[vendor]) {
				t.Errorf("documentation differing between pages:\n%s\nwant (update NORMALISATION.md M3 too):\n%s",
					strings.Join(lines, "\n"), strings.Join(divergences[vendor], "\n"))
			}
		})
	}
}

// Each page of a vendor publishes the 200 envelope the stream page has, so
// the overlay names it once (K4) and every upload shares the Go type.
func TestPagesShareTheEnvelope(t *testing.T) {
	runs := vendorRuns(t)
	merged := func(vendor string) *yaml.Node {
		var inputs []specnorm.Input
		for _, p := range runs[vendor].pages {
			src := readSource(t, p)
			n, err := specnorm.Normalise(src.Name, src.Data)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, specnorm.Input{Name: p, Doc: n})
		}
		n, _, err := specnorm.Merge(inputs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	at := func(n *yaml.Node, keys ...string) string {
		for _, k := range keys {
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				t.Fatalf("no %s in %v", k, keys)
			}
			n = next
		}
		return render(t, n)
	}
	kie := merged("kie")
	stream := at(kie, "paths", "/api/file-stream-upload", "post", "responses", "200", "content", "application/json", "schema")
	shared := at(kie, "components", "responses", "SuccessResponse", "content", "application/json", "schema")
	if stream != shared {
		t.Errorf("kie's SuccessResponse differs from the stream upload's 200 schema:\n%s\n%s", shared, stream)
	}
	evolink := merged("evolink")
	for _, p := range []string{"/api/v1/files/upload/stream", "/api/v1/files/upload/base64", "/api/v1/files/upload/url"} {
		if ref := at(evolink, "paths", p, "post", "responses", "200", "content", "application/json", "schema", "$ref"); !strings.Contains(ref, "#/components/schemas/FileUploadResponse") {
			t.Errorf("%s: 200 schema is %s", p, ref)
		}
	}
}

// Adding the vendors' other pages to a spec that had only the stream
// upload adds operations and nothing else: every change is an addition,
// Report lists each one and counts none as breaking.
func TestAddingPagesIsAnAddition(t *testing.T) {
	tests := []struct {
		vendor string
		added  []string
	}{
		{"kie", []string{
			"POST /api/file-stream-upload response 429: response added",
			"POST /api/file-base64-upload: operation added (responses 200, 400, 401, 403, 405, 413, 429, 500)",
			"POST /api/file-url-upload: operation added (responses 200, 400, 401, 403, 405, 413, 429, 500)",
		}},
		{"evolink", []string{
			"POST /api/v1/files/upload/stream response 429: response added",
			"GET /api/v1/files/download/{file_id}: operation added (responses 200, 206, 404, 416, 500)",
			"GET /api/v1/files/quota: operation added (responses 200, 401, 500)",
			"POST /api/v1/files/upload/base64: operation added (responses 200, 400, 401, 403, 405, 413, 429, 500)",
			"POST /api/v1/files/upload/url: operation added (responses 200, 400, 401, 403, 405, 413, 429, 500)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.vendor, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("testdata", tt.vendor+"-stream-only.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			current, err := os.ReadFile(filepath.Join("..", "..", "api", tt.vendor, "openapi.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			changes, err := specnorm.Compare(old, current)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.Where+": "+c.What)
				if c.Breaking {
					t.Errorf("breaking: %s: %s", c.Where, c.What)
				}
			}
			if !slices.Equal(got, tt.added) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.added, "\n"))
			}
			var report bytes.Buffer
			if n := specnorm.Report(&report, "openapi.yaml", changes); n != 0 {
				t.Errorf("Report counted %d breaking", n)
			}
			for _, line := range tt.added {
				if !strings.Contains(report.String(), "\n  "+line+"\n") {
					t.Errorf("report lacks %q:\n%s", line, report.String())
				}
			}
			if strings.Contains(report.String(), "!") {
				t.Errorf("report marks a change breaking:\n%s", report.String())
			}
		})
	}
}
