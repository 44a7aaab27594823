package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// envelope is the error shape both vendors share: {success, code, msg}.
// The envelope code always equals the HTTP status.
type envelope struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
}

// apiError is an error that carries the HTTP status and the message the
// client sees. Anything else that reaches a handler's error path is a 500
// whose detail is logged, never sent.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

func errorf(status int, msg string) *apiError { return &apiError{Status: status, Msg: msg} }

// asAPIError returns err as an *apiError, or a 500 for anything else.
func asAPIError(err error) *apiError {
	var aerr *apiError
	if errors.As(err, &aerr) {
		return aerr
	}
	return errorf(http.StatusInternalServerError, "Internal server error")
}

// writeEnvelope writes a JSON error envelope with the given status.
func writeEnvelope(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	writeBody(w, status, envelope{Success: false, Code: status, Msg: msg})
}

// writeBody writes a JSON response with its Content-Length, so that the
// answer is whole on the wire as soon as it is flushed (an upload's
// answer is flushed before the server drains the rest of the body).
func writeBody(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"code":500,"msg":"Internal server error"}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// quoteField quotes a client-chosen name for an error message, cut to a
// few dozen bytes.
func quoteField(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
