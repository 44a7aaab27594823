// Package api_test checks that the normalised specs in api/ are valid OpenAPI
// 3.0 documents, faithful to the vendor pages, and identical to the specs
// embedded in gen/.
package api_test

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

func load(t *testing.T, vendor string) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(vendor, "openapi.yaml"))
	if err != nil {
		t.Fatalf("load %s: %v", vendor, err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("validate %s: %v", vendor, err)
	}
	return doc
}

// operation describes what a vendor page (or, for downloadFile, fileup)
// says about one operation.
type operation struct {
	vendor   string
	method   string
	path     string
	id       string
	secured  bool     // bearer token required
	media    string   // request media type; "" for none
	required []string // required request properties
	optional []string // optional request properties
	statuses []string // response statuses, vendor's and fileup's
	ok       string   // the 200 body: a schema reference, or the media type of a binary body
}

var (
	kieErrors  = []string{"200", "400", "401", "403", "405", "413", "429", "500"}
	kieOK      = "#/components/schemas/FileUploadResponse"
	evolinkOK  = "#/components/schemas/FileUploadResponse"
	operations = []operation{
		{"kie", "POST", "/api/file-stream-upload", "uploadFileStream", true, "multipart/form-data",
			[]string{"file", "uploadPath"}, []string{"fileName"}, kieErrors, kieOK},
		{"kie", "POST", "/api/file-base64-upload", "uploadFileBase64", true, "application/json",
			[]string{"base64Data", "uploadPath"}, []string{"fileName"}, kieErrors, kieOK},
		{"kie", "POST", "/api/file-url-upload", "uploadFileUrl", true, "application/json",
			[]string{"fileUrl", "uploadPath"}, []string{"fileName"}, kieErrors, kieOK},
		{"evolink", "POST", "/api/v1/files/upload/stream", "uploadFileStream", true, "multipart/form-data",
			[]string{"file"}, []string{"fileName", "file_name", "uploadPath", "upload_path"}, kieErrors, evolinkOK},
		{"evolink", "POST", "/api/v1/files/upload/base64", "uploadFileBase64", true, "application/json",
			[]string{"base64_data"}, []string{"file_name", "upload_path"}, kieErrors, evolinkOK},
		{"evolink", "POST", "/api/v1/files/upload/url", "uploadFileUrl", true, "application/json",
			[]string{"file_url"}, []string{"file_name", "upload_path"}, kieErrors, evolinkOK},
		{"evolink", "GET", "/api/v1/files/quota", "getFilesQuota", true, "",
			nil, nil, []string{"200", "401", "500"}, "#/components/schemas/QuotaResponse"},
		{"evolink", "GET", "/api/v1/files/download/{file_id}", "downloadFile", false, "",
			nil, nil, []string{"200", "206", "404", "416", "500"}, "*/*"},
	}
)

// vendor holds what each vendor's pages say about the whole API.
var vendors = map[string]struct {
	server, scheme string
}{
	"kie":     {"https://kieai.redpandaai.co", "BearerAuth"},
	"evolink": {"https://files-api.evolink.ai", "bearerAuth"},
}

func TestSpecsAreFaithful(t *testing.T) {
	for name, want := range vendors {
		t.Run(name, func(t *testing.T) {
			doc := load(t, name)
			if doc.OpenAPI != "3.0.3" {
				t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != want.server {
				t.Errorf("servers = %v, want %s", doc.Servers, want.server)
			}
			ss := doc.Components.SecuritySchemes[want.scheme]
			if ss == nil || ss.Value.Type != "http" || ss.Value.Scheme != "bearer" {
				t.Fatalf("security scheme %s missing or not http bearer", want.scheme)
			}
			var count int
			for _, item := range doc.Paths.Map() {
				count += len(item.Operations())
			}
			var listed int
			for _, op := range operations {
				if op.vendor == name {
					listed++
				}
			}
			if count != listed {
				t.Errorf("spec has %d operations, the table %d", count, listed)
			}
		})
	}
	for _, want := range operations {
		t.Run(want.vendor+" "+want.id, func(t *testing.T) {
			doc := load(t, want.vendor)
			item := doc.Paths.Find(want.path)
			if item == nil || item.GetOperation(want.method) == nil {
				t.Fatalf("%s %s missing", want.method, want.path)
			}
			op := item.GetOperation(want.method)
			if op.OperationID != want.id {
				t.Errorf("operationId = %q, want %q", op.OperationID, want.id)
			}
			checkSecurity(t, op, vendors[want.vendor].scheme, want.secured)
			checkRequest(t, op, want)
			checkResponses(t, op, want)
		})
	}
}

func checkSecurity(t *testing.T, op *openapi3.Operation, scheme string, secured bool) {
	t.Helper()
	switch {
	case op.Security == nil:
		t.Error("operation states no security")
	case !secured && len(*op.Security) != 0:
		t.Errorf("security = %v, want none (public)", *op.Security)
	case secured && len(*op.Security) != 1:
		t.Errorf("security = %v, want %s", *op.Security, scheme)
	case secured:
		if _, ok := (*op.Security)[0][scheme]; !ok {
			t.Errorf("operation does not use %s", scheme)
		}
	}
}

func checkRequest(t *testing.T, op *openapi3.Operation, want operation) {
	t.Helper()
	if want.media == "" {
		if op.RequestBody != nil {
			t.Error("unexpected request body")
		}
		return
	}
	if op.RequestBody == nil || !op.RequestBody.Value.Required {
		t.Fatal("request body must be required")
	}
	mt := op.RequestBody.Value.Content.Get(want.media)
	if mt == nil || len(op.RequestBody.Value.Content) != 1 {
		t.Fatalf("request body is not (only) %s", want.media)
	}
	body := mt.Schema.Value
	if got := slices.Sorted(slices.Values(body.Required)); !slices.Equal(got, want.required) {
		t.Errorf("required fields = %v, want %v", got, want.required)
	}
	props := slices.Sorted(maps.Keys(body.Properties))
	wantProps := slices.Sorted(slices.Values(append(slices.Clone(want.required), want.optional...)))
	if !slices.Equal(props, wantProps) {
		t.Errorf("fields = %v, want %v", props, wantProps)
	}
	if f := body.Properties["file"]; f != nil && (!f.Value.Type.Is("string") || f.Value.Format != "binary") {
		t.Errorf("file part must be string/binary, got %v/%s", f.Value.Type, f.Value.Format)
	}
	for name, p := range body.Properties {
		if !p.Value.Type.Is("string") {
			t.Errorf("field %s is %v, want string", name, p.Value.Type)
		}
	}
}

func checkResponses(t *testing.T, op *openapi3.Operation, want operation) {
	t.Helper()
	statuses := slices.Sorted(maps.Keys(op.Responses.Map()))
	if !slices.Equal(statuses, want.statuses) {
		t.Errorf("statuses = %v, want %v", statuses, want.statuses)
	}
	for _, code := range statuses {
		resp := op.Responses.Value(code).Value
		if code == "200" || code == "206" {
			continue
		}
		js := resp.Content.Get("application/json")
		if js == nil || js.Schema == nil || len(resp.Content) != 1 {
			t.Errorf("%s: not (only) an application/json envelope", code)
			continue
		}
		for _, f := range []string{"success", "code", "msg"} {
			if !slices.Contains(js.Schema.Value.Required, f) {
				t.Errorf("%s: envelope field %s not required", code, f)
			}
		}
	}
	ok := op.Responses.Value("200").Value.Content
	if strings.HasPrefix(want.ok, "#/") {
		if js := ok.Get("application/json"); js == nil || js.Schema.Ref != want.ok {
			t.Errorf("200 body is not %s", want.ok)
		}
		return
	}
	for _, code := range []string{"200", "206"} {
		body := op.Responses.Value(code).Value.Content[want.ok]
		if body == nil || !body.Schema.Value.Type.Is("string") || body.Schema.Value.Format != "binary" {
			t.Errorf("%s body is not %s binary", code, want.ok)
		}
	}
}

// schema describes a response data object as the vendor pages publish it.
type schema struct {
	vendor, name string
	fields       map[string]string // property -> format ("" for none)
	required     []string
}

var schemas = []schema{
	{"kie", "FileUploadResult", map[string]string{
		"fileName": "", "filePath": "", "downloadUrl": "uri",
		"fileSize": "int64", "mimeType": "", "uploadedAt": "date-time",
	}, []string{"downloadUrl", "fileName", "filePath", "fileSize", "mimeType", "uploadedAt"}},
	{"evolink", "FileData", map[string]string{
		"file_id": "", "file_name": "", "original_name": "", "file_size": "int64",
		"mime_type": "", "upload_path": "", "file_url": "uri", "download_url": "uri",
		"upload_time": "date-time", "expires_at": "date-time",
	}, nil}, // the vendor marks no field of FileData required
	{"evolink", "QuotaData", map[string]string{
		"user_group": "", "used_files": "", "max_files": "", "remain_files": "", "is_custom": "", "quota_reason": "",
	}, nil},
}

func TestDataSchemas(t *testing.T) {
	for _, want := range schemas {
		t.Run(want.vendor+" "+want.name, func(t *testing.T) {
			data := load(t, want.vendor).Components.Schemas[want.name].Value
			if len(data.Properties) != len(want.fields) {
				t.Errorf("%d properties, want %d", len(data.Properties), len(want.fields))
			}
			for name, format := range want.fields {
				p, found := data.Properties[name]
				if !found {
					t.Errorf("%s missing", name)
					continue
				}
				if p.Value.Format != format {
					t.Errorf("%s format = %q, want %q", name, p.Value.Format, format)
				}
			}
			if got := slices.Sorted(slices.Values(data.Required)); !slices.Equal(got, want.required) {
				t.Errorf("required = %v, want %v", got, want.required)
			}
		})
	}
}

// The download route is public and is the one FileData.download_url names
// on the vendor's page.
func TestDownloadRouteMatchesDownloadURL(t *testing.T) {
	doc := load(t, "evolink")
	example := doc.Components.Schemas["FileData"].Value.Properties["download_url"].Value.Example.(string)
	route := "/api/v1/files/download/"
	if !strings.Contains(example, route+"file_abc123") {
		t.Fatalf("download_url example %q is not under %s", example, route)
	}
	param := doc.Paths.Find(route+"{file_id}").Get.Parameters.GetByInAndName("path", "file_id")
	if param == nil || !param.Required || !param.Schema.Value.Type.Is("string") || param.Schema.Value.Example != "file_abc123" {
		t.Errorf("file_id parameter = %+v", param)
	}
}

func TestKieStatusCodeEnum(t *testing.T) {
	doc := load(t, "kie")
	var got []int
	for _, v := range doc.Components.Schemas["StatusCode"].Value.Enum {
		got = append(got, int(v.(float64)))
	}
	// The vendor's enum (200, 400, 401, 405, 500) plus 403, 413 and 429.
	want := []int{200, 400, 401, 403, 405, 413, 429, 500}
	if !slices.Equal(got, want) {
		t.Errorf("StatusCode enum = %v, want %v", got, want)
	}
}

// TestEmbeddedSpecsMatch proves gen/ embeds the spec that is in api/ now.
func TestEmbeddedSpecsMatch(t *testing.T) {
	for vendor, get := range map[string]func() (*openapi3.T, error){
		"kie":     kie.GetSwagger,
		"evolink": evolink.GetSwagger,
	} {
		t.Run(vendor, func(t *testing.T) {
			embedded, err := get()
			if err != nil {
				t.Fatal(err)
			}
			doc := load(t, vendor)
			// oapi-codegen stores operationIds in their Go form in the
			// embedded copy (uploadFileStream -> UploadFileStream).
			for _, item := range doc.Paths.Map() {
				for _, op := range item.Operations() {
					op.OperationID = strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:]
				}
			}
			a, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(embedded)
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Errorf("gen/%s embeds a different spec than api/%s/openapi.yaml: run go generate ./...", vendor, vendor)
			}
		})
	}
}
