package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/fileup/fileup/internal/formdata"
)

// classifyReadError maps an error reading the request body to the
// client's error.
func classifyReadError(err error) *apiError {
	var aerr *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &aerr):
		return aerr
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: limit is %d bytes", mbe.Limit))
	case errors.Is(err, errStalled):
		return errorf(http.StatusRequestTimeout, "Upload stalled: no data received in time")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.Canceled):
		return errorf(http.StatusBadRequest, "Upload interrupted: the request body ended early")
	case errors.Is(err, formdata.ErrHeaderTooLarge):
		return errorf(http.StatusBadRequest, fmt.Sprintf("Malformed multipart body: a part's headers exceed %d bytes", maxPartHeader))
	case errors.Is(err, formdata.ErrTooManyParts):
		return errorf(http.StatusBadRequest, fmt.Sprintf("Too many form parts (more than %d)", maxParts))
	}
	return errorf(http.StatusBadRequest, "Malformed request body: "+clipMessage(err.Error()))
}

// clipMessage bounds an error text that may quote the client's input.
func clipMessage(s string) string {
	if len(s) <= 200 {
		return s
	}
	return quoteField(s[:200])
}
