package wrapper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// call is one API operation as the retry loop sends it: Upload,
// UploadBase64, UploadURL and Quota each make one, and share the loop,
// the auth, the inactivity timeout, the envelope decoding and *Error.
type call struct {
	op string // names the operation in errors: "upload", "quota"...
	// idempotencyKey, if set, is sent as the Idempotency-Key header on
	// every attempt.
	idempotencyKey string
	// replayable reports whether a failed attempt may be sent again.
	replayable bool
	// build returns an attempt's request, bound to ctx, and a release
	// func the attempt calls once its response is read. touch marks
	// movement for the inactivity timeout.
	build func(ctx context.Context, touch func()) (*http.Request, func(), error)
	// decode reads the data of a success envelope; its error makes the
	// call fail with an *Error that keeps the response.
	decode func(data []byte) error
}

// maxEnvelope bounds how much of a response is read: envelopes are small.
const maxEnvelope = 1 << 20

// send runs the call's attempts: retryable failures are retried per the
// policy, after a full-jitter backoff or the server's Retry-After.
func (c *Client) send(ctx context.Context, cfg *config, r *call) error {
	policy := cfg.retry
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, cfg, r)
		if err == nil {
			return nil
		}
		if attempt >= policy.MaxAttempts || !r.replayable || ctx.Err() != nil || !IsRetryable(err) {
			return err
		}
		var retryAfter time.Duration
		if e, ok := asError(err); ok {
			retryAfter = e.RetryAfter
		}
		wait, ok := policy.delay(attempt+1, retryAfter)
		if !ok {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts; last error: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// attempt sends the call once. The token is fetched first, so a missing
// one fails before the source is opened or anything is sent.
func (c *Client) attempt(ctx context.Context, cfg *config, r *call) error {
	tok, err := token(ctx, cfg.tokens)
	if err != nil {
		return err
	}
	actx, w := watch(ctx, cfg.inactivity)
	defer w.stop()
	req, release, err := r.build(actx, w.touch)
	if err != nil {
		return err
	}
	defer release() // after the response is read: closing the body may end the connection
	if err := c.prepare(actx, cfg, req, tok, r.idempotencyKey); err != nil {
		return err
	}
	resp, err := cfg.httpClient.Do(req)
	if err != nil {
		return c.transportError(actx, w, r.op, err)
	}
	defer resp.Body.Close()
	w.touch()
	raw, err := io.ReadAll(io.LimitReader(touchReader{resp.Body, w.touch}, maxEnvelope+1))
	if err != nil {
		return c.transportError(actx, w, r.op, fmt.Errorf("reading the response: %w", err))
	}
	return c.interpret(r, resp, raw, tok)
}

// prepare sets the headers the package owns, then runs the editors.
func (c *Client) prepare(ctx context.Context, cfg *config, req *http.Request, tok, key string) error {
	req.Header.Set("Authorization", "Bearer "+tok)
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, key)
	}
	if cfg.userAgent != "" {
		req.Header.Set("User-Agent", cfg.userAgent)
	}
	for _, ed := range cfg.editors {
		if err := ed(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

// transportError explains a failed exchange: the inactivity timeout's
// cut, the source's read error, or the transport's own error.
func (c *Client) transportError(actx context.Context, w *watchdog, op string, err error) error {
	if se := w.stalled(actx); se != nil {
		return fmt.Errorf("%s %s: %w", c.vendor, op, se)
	}
	var se *SourceError
	if errors.As(err, &se) {
		return se
	}
	return fmt.Errorf("%s %s: %w", c.vendor, op, err)
}
