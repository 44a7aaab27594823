package fetch

import (
	"net/http"
	"strconv"
)

// Kind says what went wrong with a fetch.
type Kind int

// The kinds of [Error]. A server answering a client would usually map
// TooLarge to 413 and the others to 400 (the URL, or what it leads to, is
// the client's choice), except Canceled, which means the caller gave up.
const (
	BadURL      Kind = iota + 1 // the URL (or a redirect's) is not an http/https URL this package accepts
	Refused                     // the host is, or resolves to, an address that is not permitted
	Unreachable                 // no connection: the name does not resolve, the connection or TLS failed
	Status                      // the remote answered with a status other than 2xx
	Redirects                   // more than MaxRedirects redirects
	Timeout                     // the whole fetch, body included, took longer than Config.Timeout
	TooLarge                    // the body is larger than Config.MaxSize
	Broken                      // the connection failed while the body was being read
	Canceled                    // the caller's context was canceled or passed its deadline
)

var kindNames = [...]string{
	BadURL:      "bad URL",
	Refused:     "refused",
	Unreachable: "cannot reach the host",
	Status:      "the remote answered with an error",
	Redirects:   "too many redirects",
	Timeout:     "timed out",
	TooLarge:    "file too large",
	Broken:      "the transfer broke off",
	Canceled:    "canceled",
}

// String returns the kind in a few words, as Error messages use it.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the error of every fetch that fails. Its message is safe to
// show the client that chose the URL: it is made only of this package's
// own words and numbers (the kind, a fixed reason, a status code, a limit),
// never of a host name, an address the name resolved to, or the text of a
// network error. Err, the cause, is for the operator's log only: a dial
// error there names the addresses connected from and to.
type Error struct {
	Kind Kind
	// Reason is a fixed explanation from this package, or "".
	Reason string
	// StatusCode is the remote's status, for Kind Status.
	StatusCode int
	// Redirects is how many redirects were followed before the failure.
	Redirects int
	// Err is the underlying cause, if any (see above). Unwrap returns it.
	Err error
}

// Error returns the message, safe to show a client.
func (e *Error) Error() string {
	msg := "fetch: " + e.Kind.String()
	if e.Kind == Status {
		msg = "fetch: the remote answered " + strconv.Itoa(e.StatusCode)
		if text := http.StatusText(e.StatusCode); text != "" {
			msg += " " + text
		}
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	switch e.Redirects {
	case 0:
	case 1:
		msg += " (after 1 redirect)"
	default:
		msg += " (after " + strconv.Itoa(e.Redirects) + " redirects)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func badURL(reason string) *Error  { return &Error{Kind: BadURL, Reason: reason} }
func refused(reason string) *Error { return &Error{Kind: Refused, Reason: reason} }
