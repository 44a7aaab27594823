package wrapper

import (
	"errors"
	"net/http"
	"slices"
	"time"
)

// Option configures a Client when given to New, or one call when given to
// Upload, where it overrides the client's setting for that call only:
//
//	up, _ := wrapper.New(wrapper.Kie, "", wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 6}))
//	res, err := up.Upload(ctx, src, params, wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 1}))
type Option func(*config)

// DefaultInactivityTimeout is the inactivity timeout of a Client that is
// given no WithInactivityTimeout.
const DefaultInactivityTimeout = 2 * time.Minute

// config is a Client's settings, copied and adjusted for each call.
type config struct {
	tokens     TokenSource
	httpClient Doer
	retry      RetryPolicy
	inactivity time.Duration // 0: none
	userAgent  string
	progress   ProgressFunc
	editors    []RequestEditorFn
	err        error // the first invalid option
}

func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// with returns a copy of c with opts applied; c is left unchanged.
func (c config) with(opts []Option) config {
	c.editors = slices.Clip(c.editors) // appends must not reach the client's array
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithTokenSource authenticates with a bearer token from src, such as
// StaticToken("...") or EnvToken("KIE_API_KEY"). A Client given no token
// source reads the vendor's Vendor.TokenEnv.
func WithTokenSource(src TokenSource) Option {
	return func(c *config) {
		if src == nil {
			c.fail(errors.New("wrapper: WithTokenSource(nil)"))
			return
		}
		c.tokens = src
	}
}

// WithHTTPClient sends requests with d, typically an *http.Client (the
// default is a zero http.Client). An http.Client's Timeout should be
// zero, as it cuts long uploads: the inactivity timeout bounds stalled
// attempts, the context bounds the whole call. Only a Doer that follows
// redirects with GetBody (http.Client does) replays bodies on 307/308.
func WithHTTPClient(d Doer) Option {
	return func(c *config) {
		if d == nil {
			c.fail(errors.New("wrapper: WithHTTPClient(nil)"))
			return
		}
		c.httpClient = d
	}
}

// WithRetry sets the retry policy; zero fields take the defaults, and
// MaxAttempts 1 disables retries.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) {
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
			c.fail(errors.New("wrapper: WithRetry: negative field in RetryPolicy"))
			return
		}
		c.retry = p.withDefaults()
	}
}

// WithInactivityTimeout cuts an attempt during which, for d, the transport
// took no byte of the request body and no byte of the response arrived;
// the attempt then fails with a retryable error. An upload that keeps
// moving, however slowly and however large, is never cut. The default is
// DefaultInactivityTimeout; 0 turns it off. Bound a whole call with its
// context.
//
// What the transport took may still wait in the kernel's socket buffers
// (up to a few MiB): d must exceed the time the link needs to drain them,
// or the end of an upload over a very slow link looks idle. The default
// leaves two minutes for that.
func WithInactivityTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail(errors.New("wrapper: WithInactivityTimeout: negative duration"))
			return
		}
		c.inactivity = d
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithProgress reports the progress of uploads (nil: none).
func WithProgress(fn ProgressFunc) Option { return func(c *config) { c.progress = fn } }

// WithRequestEditor adds an editor run on every request, after the
// package has set its own headers. Given to Upload, it runs after the
// client's editors, for that call only.
func WithRequestEditor(fn RequestEditorFn) Option {
	return func(c *config) {
		if fn == nil {
			c.fail(errors.New("wrapper: WithRequestEditor(nil)"))
			return
		}
		c.editors = append(c.editors, fn)
	}
}

func defaultConfig(v Vendor) config {
	return config{
		tokens:     EnvToken(v.TokenEnv()),
		httpClient: &http.Client{},
		retry:      RetryPolicy{}.withDefaults(),
		inactivity: DefaultInactivityTimeout,
	}
}
