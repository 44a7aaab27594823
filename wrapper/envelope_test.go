package wrapper_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fileup/fileup/wrapper"
)

// evolink's spec makes every envelope and data field optional: answers
// without success or code are successes when they carry data, and what
// the server left out is absent from the Result and from its JSON.
func TestEvolinkOptionalFields(t *testing.T) {
	zero := int64(0)
	tests := []struct {
		name     string
		body     string
		want     wrapper.Result
		wantJSON string
	}{
		{"data alone", `{"data":{"file_id":"file_1","download_url":"https://f.example/d/1"}}`,
			wrapper.Result{Vendor: wrapper.Evolink, FileID: "file_1", DownloadURL: "https://f.example/d/1"},
			`{"vendor":"evolink","file_id":"file_1","download_url":"https://f.example/d/1"}`},
		{"msg and data, file_url only", `{"msg":"ok","data":{"file_url":"https://f.example/p/x.png","file_name":"x.png","upload_path":"p"}}`,
			wrapper.Result{Vendor: wrapper.Evolink, FileName: "x.png", UploadPath: "p", FilePath: "p/x.png", DownloadURL: "https://f.example/p/x.png", FileURL: "https://f.example/p/x.png"},
			`{"vendor":"evolink","file_name":"x.png","upload_path":"p","file_path":"p/x.png","download_url":"https://f.example/p/x.png","file_url":"https://f.example/p/x.png"}`},
		{"an empty file is size 0, not absent", `{"success":true,"data":{"file_id":"f","file_size":0}}`,
			wrapper.Result{Vendor: wrapper.Evolink, FileID: "f", Size: &zero},
			`{"vendor":"evolink","file_id":"f","size":0}`},
		{"code without success", `{"code":200,"data":{"file_id":"f"}}`,
			wrapper.Result{Vendor: wrapper.Evolink, FileID: "f"}, `{"vendor":"evolink","file_id":"f"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newRecorder(t, rawReply(200, "application/json", tt.body))
			up, _ := wrapper.New(wrapper.Evolink, srv.URL, auth, noRetries)
			res, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.png", 1), wrapper.UploadParams{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*res, tt.want) {
				t.Errorf("result %+v\nwant   %+v", *res, tt.want)
			}
			if b, _ := json.Marshal(res); string(b) != tt.wantJSON {
				t.Errorf("JSON %s\nwant %s", b, tt.wantJSON)
			}
		})
	}
}

// Answers that are not successes, however lenient the reading.
func TestEnvelopeRejects(t *testing.T) {
	for _, tt := range []struct {
		vendor wrapper.Vendor
		body   string
		msg    string
	}{
		{wrapper.Evolink, `{"data":{"file_name":"x.png"}}`, "none of download_url, file_url and file_id"},
		{wrapper.Evolink, `{"data":null}`, "not a JSON envelope"},
		{wrapper.Evolink, `{"error":"x"}`, "not a JSON envelope"},
		{wrapper.Evolink, `[1,2]`, "not a JSON envelope"},
		{wrapper.Evolink, `{"data":{"file_id":"f"}} trailing`, "malformed JSON"},
		{wrapper.Evolink, `{"data":{"file_id":"f","file_size":"big"}}`, "malformed data"},
		{wrapper.Evolink, `{"success":true,"code":200,"msg":"ok"}`, "without data"},
		{wrapper.Kie, `{"data":{"downloadUrl":"https://f.example/x"}}`, "no success or code"},
	} {
		_, srv := newRecorder(t, rawReply(200, "application/json", tt.body))
		up, _ := wrapper.New(tt.vendor, srv.URL, auth, noRetries)
		_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.png", 1), kiePath)
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || !strings.Contains(e.Msg, tt.msg) || wrapper.IsRetryable(err) {
			t.Errorf("%s %s: %v, want a final *Error saying %q", tt.vendor, tt.body, err, tt.msg)
		}
	}
}
