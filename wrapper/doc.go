// Package wrapper is the handwritten layer over the generated kie.ai and
// evolink.ai clients (gen/kie, gen/evolink). The generated clients do the
// HTTP; wrapper supplies what they leave to the caller.
//
// # Uploading
//
// New (or NewKie, NewEvolink) returns a *Client, an Uploader for one
// vendor; an application switches vendor, or points at fileup's reference
// server, by configuration:
//
//	up, err := wrapper.New(wrapper.Kie, "", wrapper.WithTokenFromEnv("KIE_API_KEY"))
//	res, err := up.Upload(ctx, wrapper.File("photo.png"), wrapper.UploadPath("images"))
//	fmt.Println(res.DownloadURL)
//
// A Source is the file: File (a path), ReaderAt, ReadSeeker (re-readable)
// or Reader (one-shot, size known or -1). Upload returns a *Result, the
// same shape for both vendors, or an error: *Error when the server
// answered anything but success, *SourceError when reading the file
// failed, ErrNoToken, ErrMissingPath, or a transport error. IsUnauthorized,
// IsQuotaExceeded, IsTooLarge and IsRetryable classify them.
//
// # Bodies
//
// NewBody builds the multipart/form-data body: the text fields, then the
// file part. With a known size it is header bytes + file + trailer read in
// turn (no goroutine, no pipe, no copy of the file) with an exact
// Content-Length; with an unknown size it is sent chunked. Memory does not
// depend on the file size. A read error or a size mismatch is returned
// from Read and the closing boundary is never written, so a truncated body
// never parses as complete. Bodies from re-openable sources rebuild
// themselves for GetBody, so HTTP clients replay them on 307/308
// redirects; Body.RequestEditor sets Content-Length and GetBody on a
// request built by a generated client.
//
// File names are quoted as mime/multipart quotes them (backslash before
// '"' and '\') and control characters are percent-encoded (CR as %0D, as
// browsers and mime/multipart do). Other UTF-8 is sent as is: RFC 7578
// forbids filename* in forms. The part's Content-Type is the caller's
// (ContentType) or detected with http.DetectContentType from the first 512
// bytes, which are then sent as part of the file.
//
// # Auth
//
// BearerToken, BearerFromEnv and BearerFromSource are request editors of
// the generated clients' type, usable with either of them directly; the
// Client options WithToken, WithTokenFromEnv and WithTokenSource use them.
// Without a token option a Client reads KIE_API_KEY or EVOLINK_API_KEY at
// request time. A missing token fails with ErrNoToken before anything is
// sent. No error or String output of this package contains a token (unless
// a TokenSource puts one in its own error).
//
// # Retries and progress
//
// Uploads of re-readable sources are retried (4 attempts by default, see
// RetryPolicy) on network failures, 408, 429 and 5xx, with full-jitter
// exponential backoff and the server's Retry-After, each attempt with a
// fresh body and optionally its own timeout (WithAttemptTimeout). A
// ProgressFunc sees file bytes as the transport takes them from the body.
package wrapper
