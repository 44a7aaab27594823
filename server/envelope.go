package server

import (
	"encoding/json"
	"net/http"
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

// writeEnvelope writes a JSON error envelope with the given status.
func writeEnvelope(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(envelope{Success: false, Code: status, Msg: msg})
}
