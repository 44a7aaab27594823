package server_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/server"
)

// Quotas hold when one token uploads several files at once: uploads that
// are all in flight together cannot each claim the whole remaining quota.
// On disk and on a real S3-compatible server.
func TestQuotaConcurrentUploads(t *testing.T) {
	t.Run("disk", func(t *testing.T) { testQuotaConcurrentUploads(t, newEnv) })
	t.Run("s3", func(t *testing.T) { testQuotaConcurrentUploads(t, newS3Env) })
}

func testQuotaConcurrentUploads(t *testing.T, newEnv func(*testing.T, func(*server.Config)) *env) {
	const (
		uploads = 8
		first   = 200 << 10 // bytes each upload sends before any finishes
		rest    = 100 << 10
		size    = first + rest
	)
	tests := []struct {
		name         string
		bytes, files int64
		maxOK        int
	}{
		{"bytes", 1 << 20, 0, (1 << 20) / size},
		{"files", 0, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.QuotaBytes, c.QuotaFiles = tc.bytes, tc.files })
			type result struct {
				status int
				body   []byte
				err    error
			}
			results := make([]result, uploads)
			var sent, done sync.WaitGroup
			release := make(chan struct{})
			for i := range uploads {
				pr, pw := io.Pipe()
				mw := multipart.NewWriter(pw)
				sent.Add(1)
				done.Add(2)
				go func() { // the client side: half the file, wait, the rest
					defer done.Done()
					data := randomBytes(size)
					err := mw.WriteField("uploadPath", "q")
					if err == nil {
						err = mw.WriteField("fileName", fmt.Sprintf("f%d", i))
					}
					var w io.Writer
					if err == nil {
						w, err = mw.CreateFormFile("file", "f")
					}
					if err == nil {
						_, err = w.Write(data[:first])
					}
					sent.Done()
					<-release
					if err == nil {
						_, err = w.Write(data[first:])
					}
					if err == nil {
						err = mw.Close()
					}
					pw.CloseWithError(err) // a refused upload's body may be cut: fine
				}()
				go func() {
					defer done.Done()
					defer pr.Close()
					req, err := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
					if err != nil {
						results[i].err = err
						return
					}
					req.Header.Set("Content-Type", mw.FormDataContentType())
					req.Header.Set("Authorization", "Bearer "+tokenA)
					resp, err := e.client.Do(req)
					if err != nil {
						results[i].err = err
						return
					}
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					results[i] = result{resp.StatusCode, body, err}
				}()
			}
			sent.Wait()
			close(release)
			done.Wait()

			ok := 0
			for i, r := range results {
				if r.err != nil {
					t.Errorf("upload %d: %v", i, r.err)
					continue
				}
				switch r.status {
				case http.StatusOK:
					ok++
				default:
					t.Logf("upload %d: %d %s", i, r.status, r.body)
					wantEnvelope(t, &http.Response{StatusCode: r.status, Header: http.Header{"Content-Type": {"application/json"}}}, r.body, http.StatusForbidden, "Quota exhausted")
				}
			}
			if ok == 0 || ok > tc.maxOK {
				t.Errorf("%d of %d concurrent uploads succeeded, want 1..%d", ok, uploads, tc.maxOK)
			}
			u, err := e.store.Usage(context.Background(), server.TenantOf(tokenA))
			if err != nil {
				t.Fatal(err)
			}
			if u.Files != int64(ok) || u.Bytes != int64(ok)*size {
				t.Errorf("store usage = %+v, want %d files of %d bytes", u, ok, size)
			}
			// Once the others are gone, the quota left is usable again.
			if ok < tc.maxOK {
				resp, body := e.post(kiePath, tokenA, field("uploadPath", "q"), field("fileName", "again"), file("f", randomBytes(size)))
				if resp.StatusCode != http.StatusOK {
					t.Errorf("upload within the quota left after the race: %d %s", resp.StatusCode, body)
				}
			}
		})
	}
}

// An overwrite that commits while another upload of the token is in flight
// counts once: the file it replaces no longer counts against the quota.
func TestQuotaOverwriteWhileUploading(t *testing.T) {
	for _, store := range []struct {
		name   string
		newEnv func(*testing.T, func(*server.Config)) *env
	}{{"disk", newEnv}, {"s3", newS3Env}} {
		t.Run(store.name, func(t *testing.T) {
			e := store.newEnv(t, func(c *server.Config) { c.QuotaBytes = 100 })
			k := randomBytes(30)
			overwrite := func() {
				t.Helper()
				if resp, body := e.post(kiePath, tokenA, field("uploadPath", "d"), field("fileName", "k"), file("k", k)); resp.StatusCode != http.StatusOK {
					t.Fatalf("upload of k: %d %s", resp.StatusCode, body)
				}
			}
			overwrite()

			// A long upload of 45 bytes: 10, then (after the overwrite) 35.
			// Stored at the end: k (30) + 45 = 75 of 100 bytes.
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			status := make(chan int, 1)
			go func() {
				defer pr.Close()
				req, err := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
				if err != nil {
					t.Error(err)
					status <- 0
					return
				}
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set("Authorization", "Bearer "+tokenA)
				resp, err := e.client.Do(req)
				if err != nil {
					t.Error(err)
					status <- 0
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Logf("long upload: %d %s", resp.StatusCode, body)
				}
				status <- resp.StatusCode
			}()
			data := randomBytes(45)
			mw.WriteField("uploadPath", "d")
			mw.WriteField("fileName", "long")
			w, err := mw.CreateFormFile("file", "long")
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data[:10])
			waitInFlight(t, e, 1)

			overwrite() // twice, for good measure: each counts once
			overwrite()

			w.Write(data[10:])
			mw.Close()
			pw.Close()
			if got := <-status; got != http.StatusOK {
				t.Errorf("long upload = %d, want 200: 75 of 100 bytes are stored at the end", got)
			}
			u, err := e.store.Usage(context.Background(), server.TenantOf(tokenA))
			if err != nil || u.Bytes != 75 || u.Files != 2 {
				t.Errorf("store usage = %+v, %v; want 75 bytes in 2 files", u, err)
			}
		})
	}
}

// waitInFlight waits until the server is receiving n uploads.
func waitInFlight(t *testing.T, e *env, n int) {
	t.Helper()
	want := fmt.Sprintf("fileup_uploads_in_flight %d\n", n)
	for range 500 {
		_, body := e.get(e.srv.URL + "/metrics")
		if strings.Contains(string(body), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server never had %d uploads in flight", n)
}
