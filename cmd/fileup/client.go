package main

import (
	"errors"
	"flag"
	"os"

	"github.com/fileup/fileup/wrapper"
)

// clientFlags are the flags of the commands that call an API (upload,
// quota): which one, where, with which token, how many attempts.
type clientFlags struct {
	provider, baseURL, token string
	retries                  int
}

// addClientFlags defines the client flags on fs; provider is the default
// API and providerUsage its flag's help.
func addClientFlags(fs *flag.FlagSet, provider, providerUsage string) *clientFlags {
	f := &clientFlags{}
	fs.StringVar(&f.provider, "provider", provider, providerUsage)
	fs.StringVar(&f.baseURL, "base-url", envOr("FILEUP_BASE_URL", ""), "server base URL (env FILEUP_BASE_URL; default: the vendor's public server)")
	fs.StringVar(&f.token, "token", "", "API token (default: env KIE_API_KEY or EVOLINK_API_KEY, per provider)")
	fs.IntVar(&f.retries, "retries", 4, "attempts for retryable failures (1: no retries)")
	return f
}

// client checks the flags and builds the client; mistakes are usage
// errors (reported on fs's output).
func (f *clientFlags) client(fs *flag.FlagSet) (*wrapper.Client, error) {
	switch {
	case f.provider != "kie" && f.provider != "evolink":
		return nil, usageErr(fs, "--provider must be kie or evolink, not %q", f.provider)
	case f.retries < 1:
		return nil, usageErr(fs, "--retries must be at least 1")
	}
	vendor := wrapper.Vendor(f.provider)
	tokens := wrapper.StaticToken(f.token)
	if f.token == "" {
		if os.Getenv(vendor.TokenEnv()) == "" {
			return nil, usageErr(fs, "no token: pass --token or set %s", vendor.TokenEnv())
		}
		tokens = wrapper.EnvToken(vendor.TokenEnv())
	}
	up, err := wrapper.New(vendor, f.baseURL, wrapper.WithTokenSource(tokens), wrapper.WithUserAgent("fileup-cli"),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: f.retries}))
	if err != nil {
		return nil, usageErr(fs, "%v", err)
	}
	return up, nil
}

// jsonError is the error object of the --json outputs.
type jsonError struct {
	Message    string `json:"message"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Code       int    `json:"code,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Retryable  bool   `json:"retryable"`
}

// newJSONError describes err for --json, with the server's status, code
// and request id when it answered.
func newJSONError(err error) *jsonError {
	e := &jsonError{Message: err.Error(), Retryable: wrapper.IsRetryable(err)}
	var apiErr *wrapper.Error
	if errors.As(err, &apiErr) {
		e.HTTPStatus, e.Code, e.RequestID = apiErr.StatusCode, apiErr.Code, apiErr.RequestID()
	}
	return e
}
