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
// so the editors of this package work with either generated client.
type RequestEditorFn = func(ctx context.Context, req *http.Request) error

// TokenSource returns the API token. A Client asks it once per attempt,
// before opening the source, so it can rotate tokens; it should cache
// rather than fetch. Its error should not contain the token: it is wrapped
// into the call's error. StaticToken and EnvToken are the common ones.
type TokenSource func(ctx context.Context) (string, error)

// ErrNoToken is returned, before anything is sent, when no API token is
// available.
var ErrNoToken = errors.New("wrapper: no API token")

// maxToken bounds a token: it travels in a header.
const maxToken = 4096

// StaticToken always returns token.
func StaticToken(token string) TokenSource {
	return func(context.Context) (string, error) { return token, nil }
}

// EnvToken reads the environment variable name (such as KIE_API_KEY or
// EVOLINK_API_KEY) every time it is asked, so a changed variable takes
// effect on the next call.
func EnvToken(name string) TokenSource {
	return func(context.Context) (string, error) {
		if t := os.Getenv(name); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("%w: environment variable %s is empty", ErrNoToken, name)
	}
}

// Bearer is a request editor that sets "Authorization: Bearer <token>"
// with a token from src, for use with the generated clients directly.
func Bearer(src TokenSource) RequestEditorFn {
	return func(ctx context.Context, req *http.Request) error {
		t, err := token(ctx, src)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+t)
		return nil
	}
}

// token asks src for a token and checks that it can go in a header.
func token(ctx context.Context, src TokenSource) (string, error) {
	t, err := src(ctx)
	if err != nil {
		if errors.Is(err, ErrNoToken) {
			return "", err
		}
		return "", fmt.Errorf("%w: token source: %v", ErrNoToken, err)
	}
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", ErrNoToken
	case len(t) > maxToken:
		return "", fmt.Errorf("%w: the token is longer than %d bytes", ErrNoToken, maxToken)
	case strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", fmt.Errorf("%w: the token contains white space or control characters", ErrNoToken)
	}
	return t, nil
}
