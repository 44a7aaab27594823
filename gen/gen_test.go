// Package gen_test checks the generated packages gen/kie and gen/evolink:
// the vendors' example payloads decode into the generated types, and the
// committed code is exactly what `go generate` produces from api/.
package gen_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// decodeStrict decodes a fixture, rejecting fields the type does not know.
func decodeStrict(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s into %T: %v", name, v, err)
	}
}

// zeroFields lists the fields of v (recursively, through pointers and
// structs) that the JSON did not populate: nil pointers, and plain fields
// holding their zero value. A non-nil pointer to a scalar was present in
// the JSON, even if empty ("quota_reason": "").
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		if v.Elem().Kind() != reflect.Struct {
			return nil
		}
		return zeroFields(v.Elem(), path)
	case reflect.Struct:
		if v.Type().PkgPath() == "time" { // time.Time: compare as a value
			if v.IsZero() {
				return []string{path}
			}
			return nil
		}
		var zero []string
		for i := range v.NumField() {
			zero = append(zero, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return zero
	default:
		// false is the documented value of "success" on error envelopes.
		if v.IsZero() && v.Kind() != reflect.Bool {
			return []string{path}
		}
		return nil
	}
}

func TestSeedExamplesDecode(t *testing.T) {
	tests := []struct {
		fixture string
		into    any
		success bool
	}{
		{"kie-200.json", new(kie.FileUploadResponse), true},
		{"kie-400.json", new(kie.ApiResponse), false},
		{"kie-401.json", new(kie.ApiResponse), false},
		{"kie-500.json", new(kie.ApiResponse), false},
		{"evolink-200.json", new(evolink.FileUploadResponse), true},
		{"evolink-base64-200.json", new(evolink.FileUploadResponse), true},
		{"evolink-url-200.json", new(evolink.FileUploadResponse), true},
		{"evolink-quota-200.json", new(evolink.QuotaResponse), true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			decodeStrict(t, tt.fixture, tt.into)
			if zero := zeroFields(reflect.ValueOf(tt.into), reflect.TypeOf(tt.into).Elem().Name()); len(zero) > 0 {
				t.Errorf("fields not populated by the vendor example: %v", zero)
			}
			success := reflect.ValueOf(tt.into).Elem().FieldByName("Success")
			if success.Kind() == reflect.Pointer {
				success = success.Elem()
			}
			if success.Bool() != tt.success {
				t.Errorf("success = %v, want %v", success.Bool(), tt.success)
			}
		})
	}
}

func TestSeedExampleValues(t *testing.T) {
	var k kie.FileUploadResponse
	decodeStrict(t, "kie-200.json", &k)
	if k.Code != kie.StatusOK || k.Data.FileSize != 154832 || k.Data.UploadedAt.UTC().Hour() != 12 {
		t.Errorf("kie example decoded wrongly: %+v", k)
	}
	var e evolink.FileUploadResponse
	decodeStrict(t, "evolink-200.json", &e)
	if *e.Data.FileSize != 2048 || e.Data.ExpiresAt.Sub(*e.Data.UploadTime).Hours() != 72 {
		t.Errorf("evolink example decoded wrongly: %+v", e.Data)
	}
	var q evolink.QuotaResponse
	decodeStrict(t, "evolink-quota-200.json", &q)
	if *q.Data.MaxFiles != 2000 || *q.Data.UsedFiles != 35 || *q.Data.UserGroup != "default" || *q.Data.IsCustom {
		t.Errorf("evolink quota example decoded wrongly: %+v", q.Data)
	}
}

// responseTypes maps each operation (by its Go name, as the embedded spec
// keeps it) to its ClientWithResponses result, whose JSON<status> fields
// have the generated type of each JSON response.
var responseTypes = map[string]map[string]any{
	"kie": {
		"UploadFileStream": kie.UploadFileStreamResponse{},
		"UploadFileBase64": kie.UploadFileBase64Response{},
		"UploadFileUrl":    kie.UploadFileUrlResponse{},
	},
	"evolink": {
		"UploadFileStream": evolink.UploadFileStreamResponse{},
		"UploadFileBase64": evolink.UploadFileBase64Response{},
		"UploadFileUrl":    evolink.UploadFileUrlResponse{},
		"GetFilesQuota":    evolink.GetFilesQuotaResponse{},
		"DownloadFile":     evolink.DownloadFileResponse{},
	},
}

// Every example response in the specs (the vendor pages' and fileup's
// envelopes) decodes strictly into the generated type of its response, and
// its code is its HTTP status.
func TestSpecExamplesDecode(t *testing.T) {
	for vendor, get := range map[string]func() (*openapi3.T, error){"kie": kie.GetSwagger, "evolink": evolink.GetSwagger} {
		t.Run(vendor, func(t *testing.T) {
			doc, err := get()
			if err != nil {
				t.Fatal(err)
			}
			decoded := 0
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					rt, ok := responseTypes[vendor][op.OperationID]
					if !ok {
						t.Errorf("%s %s: no response type for %s", method, path, op.OperationID)
						continue
					}
					for status, resp := range op.Responses.Map() {
						decoded += decodeExamples(t, rt, op.OperationID, status, resp.Value)
					}
				}
			}
			if want := map[string]int{"kie": 27, "evolink": 28}[vendor]; decoded != want {
				t.Errorf("decoded %d examples, want %d", decoded, want)
			}
		})
	}
}

// decodeExamples decodes the JSON examples of one response into the type of
// field JSON<status> of rt and returns how many there were.
func decodeExamples(t *testing.T, rt any, op, status string, resp *openapi3.Response) int {
	t.Helper()
	mt := resp.Content["application/json"] // not Get, which would match */*
	if mt == nil {
		return 0
	}
	values := []any{}
	if mt.Example != nil {
		values = append(values, mt.Example)
	}
	for _, ex := range mt.Examples {
		values = append(values, ex.Value.Value)
	}
	field, ok := reflect.TypeOf(rt).FieldByName("JSON" + status)
	if !ok {
		t.Errorf("%s %s: %T has no JSON%s", op, status, rt, status)
		return 0
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		into := reflect.New(field.Type.Elem())
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into.Interface()); err != nil {
			t.Errorf("%s %s: example %s does not decode into %s: %v", op, status, b, field.Type.Elem(), err)
		}
		var envelope struct{ Code json.Number }
		if err := json.Unmarshal(b, &envelope); err != nil || envelope.Code.String() != status {
			t.Errorf("%s %s: example code %q is not the HTTP status", op, status, envelope.Code)
		}
	}
	return len(values)
}

// TestGeneratedCodeIsUpToDate regenerates each package into a temporary
// directory with the pinned generator and its committed configuration, and
// fails on any difference from the committed gen/ files.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the code generator; skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not in PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	outputLine := regexp.MustCompile(`(?m)^output: .*$`)
	for _, vendor := range []string{"kie", "evolink"} {
		t.Run(vendor, func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(root, "api", vendor, "oapi-codegen.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			out := filepath.Join(tmp, vendor+".gen.go")
			if !outputLine.Match(cfg) {
				t.Fatal("config has no output line")
			}
			cfg = outputLine.ReplaceAll(cfg, []byte("output: "+out))
			cfgPath := filepath.Join(tmp, "config.yaml")
			if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(goBin, "run", "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen",
				"-config", cfgPath, filepath.Join("api", vendor, "openapi.yaml"))
			cmd.Dir = root
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("oapi-codegen: %v\n%s", err, msg)
			}
			fresh, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(root, "gen", vendor, vendor+".gen.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fresh, committed) {
				t.Errorf("gen/%s/%s.gen.go differs from what api/%s generates: run `go generate ./...` and commit", vendor, vendor, vendor)
			}
		})
	}
}
