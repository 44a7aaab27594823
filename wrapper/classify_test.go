package wrapper_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/fileup/fileup/wrapper"
)

// The outcome of a call, as the classification helpers see it: "ok" for
// a success, otherwise the letters of the helpers that report the error
// (U IsUnauthorized, Q IsQuotaExceeded, L IsTooLarge, R IsRetryable), or
// "-" for a final error none of them names.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	if _, ok := errors.AsType[*wrapper.Error](err); !ok {
		return "not an *Error: " + err.Error()
	}
	s := ""
	for _, f := range []struct {
		letter string
		is     func(error) bool
	}{{"U", wrapper.IsUnauthorized}, {"Q", wrapper.IsQuotaExceeded}, {"L", wrapper.IsTooLarge}, {"R", wrapper.IsRetryable}} {
		if f.is(err) {
			s += f.letter
		}
	}
	if s == "" {
		s = "-"
	}
	return s
}

// scriptedServer answers every upload with the status and envelope code
// the request asks for in X-Test-Status and X-Test-Code ("none": no code
// and no success field). 2xx answers carry data; success is true exactly
// when the code is 2xx (or absent).
func scriptedServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		status, _ := strconv.Atoi(r.Header.Get("X-Test-Status"))
		env := map[string]any{"msg": "scripted"}
		if c := r.Header.Get("X-Test-Code"); c != "none" {
			code, _ := strconv.Atoi(c)
			env["code"], env["success"] = code, code >= 200 && code <= 299
		}
		if status == 200 {
			env["data"] = map[string]any{"fileName": "x", "filePath": "p/x", "downloadUrl": "https://f.example/p/x", "fileSize": 1,
				"mimeType": "text/plain", "uploadedAt": "2025-01-01T00:00:00Z", "file_id": "file_1", "download_url": "https://f.example/d/1"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(env)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Every HTTP status × envelope code the two specs allow, classified. The
// specs document statuses 200, 400, 401, 403, 405, 413 and 500; kie's
// code is its StatusCode enum (the same values), evolink's any integer
// or absent (here also 429 and 503, which its servers or proxies may
// use). Rows are statuses, columns codes, in the order of the header.
func TestClassificationGrid(t *testing.T) {
	grids := []struct {
		vendor wrapper.Vendor
		codes  string
		rows   map[int]string
	}{
		{wrapper.Kie, "200 400 401 403 405 413 500", map[int]string{
			200: "ok - U Q - L R",
			400: "- - U Q - L -",
			401: "U U U UQ U UL U",
			403: "Q Q UQ Q Q QL Q",
			405: "- - U Q - L -",
			413: "L L UL QL L L L",
			500: "R - U Q - L R",
		}},
		{wrapper.Evolink, "none 200 400 401 403 405 413 429 500 503", map[int]string{
			200: "ok ok - U Q - L R R R",
			400: "- - - U Q - L - - -",
			401: "U U U U UQ U UL U U U",
			403: "Q Q Q UQ Q Q QL Q Q Q",
			405: "- - - U Q - L - - -",
			413: "L L L UL QL L L L L L",
			500: "R R - U Q - L R R R",
		}},
	}
	srv := scriptedServer(t)
	for _, g := range grids {
		up, err := wrapper.New(g.vendor, srv.URL, auth, noRetries)
		if err != nil {
			t.Fatal(err)
		}
		codes := strings.Fields(g.codes)
		for status, row := range g.rows {
			want := strings.Fields(row)
			if len(want) != len(codes) {
				t.Fatalf("%s row %d has %d cells for %d codes", g.vendor, status, len(want), len(codes))
			}
			for i, code := range codes {
				_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), kiePath,
					wrapper.WithRequestEditor(func(_ context.Context, req *http.Request) error {
						req.Header.Set("X-Test-Status", strconv.Itoa(status))
						req.Header.Set("X-Test-Code", code)
						return nil
					}))
				if got := outcome(err); got != want[i] {
					t.Errorf("%s HTTP %d, code %s: %s, want %s (%v)", g.vendor, status, code, got, want[i], err)
				}
			}
		}
	}
}

// success and code can disagree; either reporting a failure makes one.
func TestSuccessAndCodeDisagree(t *testing.T) {
	data := map[string]any{"downloadUrl": "https://f.example/x"}
	for _, tt := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"success false, code 200", map[string]any{"success": false, "code": 200, "msg": "no", "data": data}, "-"},
		{"success true, code 500", map[string]any{"success": true, "code": 500, "msg": "odd", "data": data}, "R"},
		{"success true, code 413", map[string]any{"success": true, "code": 413, "msg": "odd", "data": data}, "L"},
		{"success true, code 201", map[string]any{"success": true, "code": 201, "msg": "created", "data": data}, "ok"},
	} {
		_, srv := newRecorder(t, jsonReply(200, tt.body))
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
		_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), kiePath)
		if got := outcome(err); got != tt.want {
			t.Errorf("%s: %s, want %s (%v)", tt.name, got, tt.want, err)
		}
	}
}
