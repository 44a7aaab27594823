package wrapper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// RequestEditorFn edits a request before it is sent. It is the type of
// the generated clients' kie.RequestEditorFn and evolink.RequestEditorFn,
// so the editors below work with either generated client directly.
type RequestEditorFn = func(ctx context.Context, req *http.Request) error

// TokenSource returns the current API token. It is called for every
// request (a Client also calls it once before opening the source, to fail
// early), so it can rotate tokens; it should cache rather than fetch. Its
// error should not contain the token: it is wrapped into the upload's
// error.
type TokenSource func(ctx context.Context) (string, error)

// ErrNoToken is returned, before anything is sent, when no API token is
// available.
var ErrNoToken = errors.New("wrapper: no API token")

// BearerToken sets "Authorization: Bearer <token>".
func BearerToken(token string) RequestEditorFn {
	return BearerFromSource(func(context.Context) (string, error) { return token, nil })
}

// BearerFromEnv reads the token from the environment variable name (such
// as KIE_API_KEY or EVOLINK_API_KEY) at every request.
func BearerFromEnv(name string) RequestEditorFn {
	return BearerFromSource(func(context.Context) (string, error) {
		if t := os.Getenv(name); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("%w: environment variable %s is empty", ErrNoToken, name)
	})
}

// BearerFromSource asks src for the token at every request.
func BearerFromSource(src TokenSource) RequestEditorFn {
	return func(ctx context.Context, req *http.Request) error {
		t, err := src(ctx)
		if err != nil {
			if errors.Is(err, ErrNoToken) {
				return err
			}
			return fmt.Errorf("%w: token source: %v", ErrNoToken, err)
		}
		t = strings.TrimSpace(t)
		if t == "" {
			return ErrNoToken
		}
		if strings.ContainsAny(t, "\r\n\t ") {
			return fmt.Errorf("%w: the token contains white space", ErrNoToken)
		}
		req.Header.Set("Authorization", "Bearer "+t)
		return nil
	}
}
