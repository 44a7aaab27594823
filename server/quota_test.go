package server_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
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

func testQuotaConcurrentUploads(t *testing.T, newEnv func(testing.TB, func(*server.Config)) *env) {
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
			if ok == 0 || ok > tc.maxOK || (tc.files > 0 && ok != tc.maxOK) {
				t.Errorf("%d of %d concurrent uploads succeeded, want 1..%d (exactly %d files)", ok, uploads, tc.maxOK, tc.files)
			}
			u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now())
			if err != nil {
				t.Fatal(err)
			}
			if u.Files != int64(ok) || u.Bytes != int64(ok)*size {
				t.Errorf("catalog usage = %+v, want %d files of %d bytes", u, ok, size)
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
// And the reservation made from a request's Content-Length, when it does
// not fit, gives way to one made as the bytes arrive: a file that fits is
// accepted to the byte.
func TestQuotaOverwriteWhileUploading(t *testing.T) {
	for _, store := range []struct {
		name   string
		newEnv func(testing.TB, func(*server.Config)) *env
	}{{"disk", newEnv}, {"s3", newS3Env}} {
		t.Run(store.name, func(t *testing.T) {
			e := store.newEnv(t, func(c *server.Config) { c.QuotaBytes = 3000 })
			overwrite := func() {
				t.Helper()
				if resp, body := e.post(kiePath, tokenA, field("uploadPath", "d"), field("fileName", "k"), file("k", randomBytes(1000))); resp.StatusCode != http.StatusOK {
					t.Fatalf("upload of k: %d %s", resp.StatusCode, body)
				}
			}
			overwrite()

			// O replaces k, and L starts while O is in flight.
			o := startUpload(t, e, tokenA, "d", "k")
			o.write(randomBytes(600))
			l := startUpload(t, e, tokenA, "d", "long")
			o.write(randomBytes(400))
			if status, body := o.finish(); status != http.StatusOK {
				t.Fatalf("overwrite in flight: %d %s", status, body)
			}
			overwrite() // once more while L is in flight: it counts once too

			// Stored at the end: k (1000) + L (1500) = 2500 of 3000 bytes.
			l.write(randomBytes(1500))
			if status, body := l.finish(); status != http.StatusOK {
				t.Errorf("long upload = %d %s, want 200: 2500 of 3000 bytes are stored at the end", status, body)
			}
			u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now())
			if err != nil || u.Bytes != 2500 || u.Files != 2 {
				t.Errorf("catalog usage = %+v, %v; want 2500 bytes in 2 files", u, err)
			}
			// The quota still holds: 500 bytes are left, not 501; and 500
			// fit, although the request (with its form) is longer.
			resp, body := e.post(kiePath, tokenA, field("uploadPath", "d"), file("x", randomBytes(501)))
			wantEnvelope(t, resp, body, http.StatusForbidden, "Quota exhausted")
			resp, body = e.post(kiePath, tokenA, field("uploadPath", "d"), file("x", randomBytes(500)))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("a file of exactly the 500 bytes left: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// pipedUpload is a kie upload whose file the test writes piece by piece.
type pipedUpload struct {
	t      *testing.T
	pw     *io.PipeWriter
	mw     *multipart.Writer
	w      io.Writer
	result chan pipedResult
}

type pipedResult struct {
	status int
	body   []byte
}

// startUpload sends the form fields and the file part's header, and
// leaves the file's bytes to write.
func startUpload(t *testing.T, e *env, token, dir, name string) *pipedUpload {
	t.Helper()
	pr, pw := io.Pipe()
	u := &pipedUpload{t: t, pw: pw, mw: multipart.NewWriter(pw), result: make(chan pipedResult, 1)}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", u.mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	go func() {
		defer pr.Close()
		resp, err := e.client.Do(req)
		if err != nil {
			t.Error(err)
			u.result <- pipedResult{}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		u.result <- pipedResult{resp.StatusCode, body}
	}()
	u.mw.WriteField("uploadPath", dir)
	u.mw.WriteField("fileName", name)
	if u.w, err = u.mw.CreateFormFile("file", name); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *pipedUpload) write(p []byte) {
	u.t.Helper()
	if _, err := u.w.Write(p); err != nil {
		u.t.Fatalf("writing the upload: %v", err)
	}
}

// finish closes the form and returns the server's answer.
func (u *pipedUpload) finish() (int, []byte) {
	u.t.Helper()
	if err := u.mw.Close(); err != nil {
		u.t.Fatalf("closing the form: %v", err)
	}
	u.pw.Close()
	r := <-u.result
	return r.status, r.body
}

// An upload whose bytes stop for longer than its lease (a client pausing
// under the stall timeout, a slow S3 part) keeps its lease alive: the
// janitor, sweeping all the while, never takes it for the upload of a
// dead process, and it is stored once its bytes resume.
func TestLeaseRenewedWhileIdle(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Now = time.Now // leases run on the real clock here
		c.UploadLease = 900 * time.Millisecond
		c.QuotaFiles = 10
	})
	u := startUpload(t, e, tokenA, "idle", "f")
	u.write(randomBytes(1000))
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				e.server.Sweep(context.Background())
			}
		}
	}()
	time.Sleep(2500 * time.Millisecond) // the pause under test: nearly three leases
	close(stop)
	<-swept
	u.write(randomBytes(1000))
	if status, body := u.finish(); status != http.StatusOK {
		t.Fatalf("an upload idle for three leases: %d %s", status, body)
	}
}

// A token at its file limit can still replace its files: an upload that
// names a live file as it begins (its fields before the file, as the
// wrapper sends them) reserves no file. A new name is refused.
func TestReplaceAtFileLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.QuotaFiles = 1 })
	for i, content := range []string{"one", "two", "three"} {
		resp, body := e.post(kiePath, tokenA, field("uploadPath", "a"), field("fileName", "x.txt"), file("x.txt", []byte(content)))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload %d of a/x.txt at a 1-file quota: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "a"), field("fileName", "y.txt"), file("y.txt", []byte("new")))
	wantEnvelope(t, resp, body, http.StatusForbidden, "Quota exhausted")
	if u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now()); err != nil || u.Files != 1 || u.Bytes != 5 {
		t.Errorf("usage %+v, %v; want the one file of 5 bytes", u, err)
	}
}
