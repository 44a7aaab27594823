package wrapper_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/wrapper"
)

// Options given to Upload override the client's for that call only.
func TestPerCallOptions(t *testing.T) {
	rec, srv := newRecorder(t, envelopeReply(503, 503, "busy"), envelopeReply(503, 503, "busy"), kieOK)
	var clientProgress, callProgress int
	header := func(v string) wrapper.Option {
		return wrapper.WithRequestEditor(func(_ context.Context, req *http.Request) error {
			req.Header.Add("X-Editor", v)
			return nil
		})
	}
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries, header("client"),
		wrapper.WithProgress(func(int64, int64) { clientProgress++ }))

	// The client makes one attempt; this call three, with its own
	// progress, token and editor.
	_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath, fast, header("call"),
		wrapper.WithTokenSource(wrapper.StaticToken("per-call-token")),
		wrapper.WithProgress(func(int64, int64) { callProgress++ }))
	if err != nil || rec.count() != 3 {
		t.Fatalf("%d attempts: %v", rec.count(), err)
	}
	if clientProgress != 0 || callProgress != 3 || rec.arrivals[0].auth != "Bearer per-call-token" {
		t.Errorf("progress client %d call %d, auth %q", clientProgress, callProgress, rec.arrivals[0].auth)
	}

	// The client's settings are untouched: one attempt, its progress, its
	// editor alone, its token.
	var headers []string
	var mu sync.Mutex
	_, srv2 := newRecorder(t, envelopeReply(503, 503, "busy"), kieOK)
	up2, _ := wrapper.New(wrapper.Kie, srv2.URL, auth, noRetries, header("client"),
		wrapper.WithRequestEditor(func(_ context.Context, req *http.Request) error {
			mu.Lock()
			headers = append(headers, strings.Join(req.Header.Values("X-Editor"), ","))
			mu.Unlock()
			return nil
		}))
	up2.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath, header("call-a"))
	if _, err := up2.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
		t.Fatal(err)
	}
	if len(headers) != 2 || headers[0] != "client" || headers[1] != "client" {
		t.Errorf("X-Editor as the client's last editor saw it: %q; a call's editor must run after the client's and not stay", headers)
	}
	if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil || clientProgress != 1 || rec.arrivals[3].auth != "Bearer "+secret {
		t.Errorf("client defaults after a per-call override: err %v, progress %d, auth %q", err, clientProgress, rec.arrivals[3].auth)
	}
}

// Invalid options are errors from New or Upload, not panics.
func TestInvalidOptions(t *testing.T) {
	bad := map[string]wrapper.Option{
		"nil token source":    wrapper.WithTokenSource(nil),
		"nil HTTP client":     wrapper.WithHTTPClient(nil),
		"nil editor":          wrapper.WithRequestEditor(nil),
		"negative attempts":   wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: -1}),
		"negative inactivity": wrapper.WithInactivityTimeout(-time.Second),
	}
	rec, srv := newRecorder(t, kieOK)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
	for name, opt := range bad {
		if _, err := wrapper.New(wrapper.Kie, srv.URL, opt); err == nil {
			t.Errorf("New accepted %s", name)
		}
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath, opt); err == nil {
			t.Errorf("Upload accepted %s", name)
		}
	}
	if rec.count() != 0 {
		t.Errorf("%d requests sent with invalid options", rec.count())
	}
}

// Concurrent calls with their own editors share nothing: each request
// carries its call's editor alone (and -race sees no shared writes).
func TestPerCallEditorsConcurrently(t *testing.T) {
	rec, srv := newRecorder(t, kieOK)
	noop := wrapper.WithRequestEditor(func(context.Context, *http.Request) error { return nil })
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noop, noop, noop) // spare capacity in the client's editors
	seen := make(chan string, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			v := string(rune('a' + i))
			_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x", 1), kiePath,
				wrapper.WithRequestEditor(func(_ context.Context, req *http.Request) error {
					req.Header.Add("X-Call", v)
					seen <- v + "=" + strings.Join(req.Header.Values("X-Call"), ",")
					return nil
				}))
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(seen)
	for s := range seen {
		if v, got, _ := strings.Cut(s, "="); got != v {
			t.Errorf("call %s sent X-Call %q", v, got)
		}
	}
	if rec.count() != 8 {
		t.Errorf("%d requests", rec.count())
	}
}
