package server_test

import (
	"bytes"
	"net/http"
	"testing"
)

// A part's file name arrives as browsers, Python requests and Node send
// it, with the WHATWG escapes %22, %0D and %0A for '"', CR and LF: it is
// recorded decoded (evolink's original_name), and a decoded control
// character is refused like any other.
func TestWHATWGFileNames(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		sent, original string // original "": refused
	}{
		{`a %22q%22.png`, `a "q".png`},
		{`%22quoted%22`, `"quoted"`},
		{`100%.png`, `100%.png`},   // a lone % is left alone, as browsers leave it
		{`50%25.png`, `50%25.png`}, // only the three escapes are decoded
		{`two%0Alines.png`, ""},
		{`cr%0D.png`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			form := (&rawForm{}).field("upload_path", "w").file(tt.sent, pngBytes)
			resp, body := e.do(http.MethodPost, evolinkPath, tokenA, "multipart/form-data; boundary="+rawBoundary, bytes.NewReader(form.body()))
			if tt.original == "" {
				wantEnvelope(t, resp, body, http.StatusBadRequest, "Invalid filename of the file part: must not contain the control or invisible character")
				return
			}
			if got := decodeUpload(t, "evolink", resp, body); got.original != tt.original {
				t.Errorf("original_name = %q, want %q", got.original, tt.original)
			}
		})
	}
}
