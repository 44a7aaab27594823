package wrapper

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// envelope is what both vendors answer with: {success, code, msg, data}.
// kie's spec requires success and code; evolink's makes every field
// optional.
type envelope struct {
	Success *bool           `json:"success"`
	Code    *int            `json:"code"`
	Msg     *string         `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

// hasData reports whether the envelope carries data other than null.
func (e *envelope) hasData() bool {
	return len(e.Data) > 0 && !bytes.Equal(e.Data, []byte("null"))
}

// failed reports whether the answer reports a failure: an HTTP status
// other than 2xx, success false, or a code other than 2xx.
func (e *envelope) failed(status int) bool {
	return !is2xx(status) || (e.Success != nil && !*e.Success) || (e.Code != nil && !is2xx(*e.Code))
}

func is2xx(code int) bool { return code >= 200 && code <= 299 }

// parseEnvelope decodes raw as the vendor's envelope. It returns false,
// with a description, for a body that is not one: not a JSON object, or
// (kie) without the required success and code, or (evolink) with none of
// success, code, msg and data.
func parseEnvelope(v Vendor, raw []byte) (envelope, bool, string) {
	var env envelope
	if len(bytes.TrimSpace(raw)) == 0 {
		return env, false, "empty response"
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return env, false, "malformed JSON envelope: " + err.Error()
		}
		return env, false, "response is not a JSON envelope"
	}
	switch {
	case v == Kie && (env.Success == nil || env.Code == nil):
		return env, false, "response is not a JSON envelope (no success or code)"
	case env.Success == nil && env.Code == nil && env.Msg == nil && !env.hasData():
		return env, false, "response is not a JSON envelope"
	}
	return env, true, ""
}

// interpret reads a response: the call's data on success, or an *Error
// that keeps the status, headers, and start of the body, with the token
// redacted wherever the server echoed it.
func (c *Client) interpret(r *call, resp *http.Response, raw []byte, tok string) error {
	e := &Error{
		Vendor:     c.vendor,
		Op:         r.op,
		StatusCode: resp.StatusCode,
		Header:     redactHeader(resp.Header, tok),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if len(raw) > maxEnvelope {
		e.Msg, e.Body = "response larger than 1 MiB", excerpt(raw, tok)
		return e
	}
	env, ok, problem := parseEnvelope(c.vendor, raw)
	if !ok {
		e.Msg, e.Body = problem, excerpt(raw, tok)
		return e
	}
	e.Envelope = true
	if env.Code != nil {
		e.Code = *env.Code
	}
	if env.Msg != nil {
		e.Msg = redact(clip(*env.Msg, maxExcerpt), tok)
	}
	e.Body = excerpt(raw, tok)
	switch {
	case env.failed(resp.StatusCode):
		return e
	case !env.hasData():
		e.Msg = "success envelope without data"
		return e
	}
	if err := r.decode(env.Data); err != nil {
		e.Msg = "malformed data in success envelope: " + err.Error()
		return e
	}
	return nil
}

// excerpt is the start of a body for Error.Body, the token redacted
// before the cut so that no part of it survives.
func excerpt(raw []byte, tok string) string {
	return clip(redact(string(raw), tok), maxExcerpt)
}

// clip cuts s to at most n bytes, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-4 && s[i]&0xc0 == 0x80 {
		i--
	}
	return s[:i]
}
