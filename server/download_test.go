package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fileup/fileup/storage"
)

// seekFailStore serves objects that cannot seek, as an S3 object replaced
// between its stat and its first ranged read does.
type seekFailStore struct{ storage.Store }

type seekFailObject struct{ storage.Object }

func (seekFailObject) Seek(int64, int) (int64, error) {
	return 0, errors.New("object replaced during read")
}

func (s seekFailStore) Get(ctx context.Context, tenant, key string) (storage.Object, error) {
	o, err := s.Store.Get(ctx, tenant, key)
	if err != nil {
		return nil, err
	}
	return seekFailObject{o}, nil
}

// Errors of downloads are JSON envelopes like every other error, including
// those http.ServeContent writes itself.
func TestDownloadErrorsAreEnvelopes(t *testing.T) {
	disk, err := storage.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   storage.Store
		headers []string
		status  int
		msg     string
		hdr     map[string]string // other headers the answer must carry
	}{
		{"unsatisfiable range", disk, []string{"Range", "bytes=1000-2000"}, http.StatusRequestedRangeNotSatisfiable,
			"range not satisfiable", map[string]string{"Content-Range": "bytes */11", "Content-Disposition": ""}},
		{"failed precondition", disk, []string{"If-Match", `"not-the-etag"`}, http.StatusPreconditionFailed,
			"Precondition failed", map[string]string{"Cache-Control": "no-store"}},
		{"object cannot seek", seekFailStore{disk}, nil, http.StatusInternalServerError,
			"Internal server error", map[string]string{"Content-Disposition": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWithStore(t, tt.store, "", nil)
			resp, body := e.post(kiePath, tokenA, field("uploadPath", "d"), field("fileName", "a.txt"), file("a.txt", []byte("hello world")))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			r, b := e.get(decode[kieOK](t, body).Data.DownloadUrl, tt.headers...)
			wantEnvelope(t, r, b, tt.status, tt.msg)
			for h, want := range tt.hdr {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if tt.status >= 500 && !strings.Contains(e.logs.String(), "object replaced during read") {
				t.Errorf("the cause is not logged: %s", e.logs.String())
			}
		})
	}
}
