// Package wrapper is the handwritten layer over the generated kie.ai and
// evolink.ai clients (gen/kie, gen/evolink). The generated code builds
// the requests; wrapper supplies what it leaves to the caller: streaming
// bodies, auth, retries that are safe to repeat, envelopes read as the
// specs allow, and errors that keep the response.
//
// # Uploading
//
// New returns a *Client, an Uploader for one vendor; an application
// switches vendor, or points at fileup's reference server, by
// configuration:
//
//	up, err := wrapper.New(wrapper.Kie, "", wrapper.WithTokenSource(wrapper.EnvToken("KIE_API_KEY")))
//	res, err := up.Upload(ctx, wrapper.File("photo.png"), wrapper.UploadParams{Path: "images"})
//	fmt.Println(res.DownloadURL)
//
// A Source is the file: File (a path), ReaderAt, ReadSeeker (re-readable)
// or Reader (one-shot, size known or -1). UploadParams say where it goes.
//
// Each operation the vendors document has its method, all alike:
//
//   - Upload: the stream upload, multipart/form-data (any size).
//   - UploadBase64: the Base64 upload, the file inside a JSON document,
//     encoded as it is sent (the vendors advise it for small files).
//   - UploadURL: the server downloads the file from a URL.
//   - Quota: evolink's file quota (kie has none: errors.ErrUnsupported).
//
// For example:
//
//	res, err := up.UploadURL(ctx, "https://example.com/photo.png", wrapper.UploadParams{Path: "images"})
//	q, err := evo.Quota(ctx) // *q.UsedFiles, *q.MaxFiles, *q.RemainFiles
//
// The uploads return a *Result, the same shape for both vendors and all
// three methods, in which fields the server left out are absent (empty,
// zero time, nil Size), or an error: *Error when the server answered
// anything but success, *SourceError when reading the file failed,
// ErrNoToken, ErrMissingPath, or a transport error. IsUnauthorized,
// IsQuotaExceeded, IsTooLarge and IsRetryable classify them from the HTTP
// status and the envelope's code, never from message text.
//
// # Options
//
// One Option type serves New (the client's settings) and each call
// (Upload, UploadBase64, UploadURL, Quota: that call's overrides): WithTokenSource, WithHTTPClient, WithRetry,
// WithInactivityTimeout, WithProgress, WithUserAgent, WithRequestEditor.
// Credentials come from a TokenSource: StaticToken, EnvToken, or any func
// (to rotate keys). Without one, a Client reads KIE_API_KEY or
// EVOLINK_API_KEY at each call. A missing token fails with ErrNoToken
// before anything is sent. Bearer makes a TokenSource a request editor
// for the generated clients.
//
// # Retries, idempotency and timeouts
//
// Uploads of replayable sources, URL uploads and quota reads are retried
// (4 attempts by default, see RetryPolicy) on network failures and on temporary answers (408, 425,
// 429, 500, 502, 503, 504, as HTTP status or envelope code: HTTP 200 with
// code 500 is retried too), with full-jitter exponential backoff and the
// server's Retry-After. Each attempt reads the source afresh, never while
// a previous attempt's transport may still read it.
//
// Every attempt of an upload (Upload, UploadBase64, UploadURL) carries
// the same Idempotency-Key header (see IdempotencyKeyHeader): a server that honours it, as fileup serve does,
// stores a retried upload once. kie.ai and evolink.ai do not document the
// header; against them, a retry after a lost response may store the file
// twice.
//
// An attempt during which nothing moves (the transport takes no body
// bytes and no response arrives) for the inactivity timeout
// (DefaultInactivityTimeout, see WithInactivityTimeout) is cut and
// retried; an upload that keeps moving is never cut, however large. Bound
// the whole call with its context, not with http.Client.Timeout, which
// cuts long uploads. During a URL upload nothing moves while the server
// downloads the file: the timeout must exceed that download (the
// default leaves room for kie's 30 s).
//
// # Errors
//
// *Error carries the HTTP status, the envelope's code and msg, the
// response headers (RequestID, Retry-After) and up to 1 KiB of the body.
// No Error, String or GoString output of this package contains a token,
// and the token a request was sent with is redacted wherever the server
// echoed it.
//
// # Bodies
//
// NewBody builds the stream upload's multipart/form-data body: the text
// fields, then the file part. With a known size it is header bytes + file + trailer read in
// turn (no goroutine, no pipe, no copy of the file) with an exact
// Content-Length; with an unknown size it is sent chunked. Memory does not
// depend on the file size. A read error or a size mismatch is returned
// from Read and the closing boundary is never written, so a truncated body
// never parses as complete. Bodies from replayable sources rebuild
// themselves for GetBody, so HTTP clients replay them on 307/308
// redirects; Body.RequestEditor sets Content-Length and GetBody on a
// request built by a generated client. Close waits for a Read in
// progress, so once it returns the source is free.
//
// NewBase64Body builds the Base64 upload's JSON body the same way: the
// JSON text before the data, the file as a data URL ("data:<type>;base64,",
// the type given or detected as below) encoded as the transport pulls it,
// then the closing quote and brace. Its length is exact (4 characters
// for every 3 bytes) for a known size; it holds 24 KiB of the file and
// their encoding, whatever the file size, and replays as NewBody does.
//
// File names are quoted as mime/multipart quotes them (backslash before
// '"' and '\') and control characters are percent-encoded (CR as %0D, as
// browsers and mime/multipart do). Other UTF-8 is sent as is: RFC 7578
// forbids filename* in forms. The part's Content-Type is the caller's or
// detected with http.DetectContentType from the first 512 bytes, which
// are then sent as part of the file.
//
// # Progress
//
// A ProgressFunc (WithProgress) sees file bytes as the transport takes
// them from the body (from a Base64 body: the bytes whose encoding it
// took); each attempt starts again from zero. A URL upload and a quota
// read send no file: WithProgress has no effect on them.
package wrapper
