// Package wrapper is the handwritten layer over the generated kie.ai and
// evolink.ai clients (gen/kie, gen/evolink). The generated clients do the
// HTTP; wrapper supplies what they leave to the caller:
//
//   - Body: a streaming multipart/form-data body. With a known file size
//     it is header bytes + file + trailer with an exact Content-Length (no
//     goroutine, no pipe, no buffering of the file); with an unknown size
//     it is sent chunked. Bodies from re-openable sources are replayed on
//     retries and 307/308 redirects.
//   - Request editors for bearer auth: a static token, an environment
//     variable, or a TokenSource for rotation.
//   - Error: one typed error for every failed upload (HTTP status,
//     envelope code and msg, vendor), including HTTP 200 with
//     success:false and non-JSON bodies such as a proxy's HTML page.
//   - Retries with exponential backoff and jitter, Retry-After, per-attempt
//     timeouts; progress callbacks as bytes go out.
//   - Client: one Uploader for both vendors, so an application switches
//     vendor (or points at fileup's reference server) by configuration.
//
// A whole upload:
//
//	up, err := wrapper.New(wrapper.Kie, "", wrapper.WithTokenFromEnv("KIE_API_KEY"))
//	res, err := up.Upload(ctx, wrapper.File("photo.png"), wrapper.UploadPath("images"))
//	fmt.Println(res.DownloadURL)
package wrapper
