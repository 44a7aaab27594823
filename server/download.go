package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/fileup/fileup/storage"
)

// objectURL is the public URL of (tenant, key) on this server.
func (s *Server) objectURL(r *http.Request, tenant, key string) string {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return base + "/f/" + tenant + "/" + strings.Join(segs, "/")
}

// inlineTypes may be shown in a browser; anything else, and in particular
// anything that can run script (HTML, SVG, XML, JavaScript, PDF), is served
// as an attachment.
var inlineTypes = map[string]bool{
	"image/png":  true,
	"image/jpeg": true,
	"image/gif":  true,
	"image/webp": true,
	"image/bmp":  true,
	"text/plain": true,
	"audio/mpeg": true,
	"audio/wave": true,
	"audio/ogg":  true,
	"video/mp4":  true,
	"video/webm": true,
}

// download serves GET and HEAD of a stored file, with Range, ETag,
// Last-Modified and conditional requests (http.ServeContent).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	tenant, key := r.PathValue("tenant"), r.PathValue("key")
	if storage.ValidTenant(tenant) != nil || tenant == stagingTenant {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	if _, err := storage.CleanKey(key); err != nil {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	obj, err := s.store.Get(r.Context(), tenant, key)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidKey) {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "download failed", "err", err)
		writeEnvelope(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	defer obj.Close()
	meta := obj.Meta()
	if meta.Expired(s.now()) {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}

	h := w.Header()
	ct := meta.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mediaType, _, _ := mime.ParseMediaType(ct)
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	if etag := meta.ETag(); etag != "" {
		h.Set("ETag", etag)
	}
	disposition := "inline"
	if !inlineTypes[mediaType] || r.URL.Query().Has("download") {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": path.Base(key)}))
	ew := &envelopeErrors{ResponseWriter: w}
	content := &seekErrors{ReadSeeker: obj}
	http.ServeContent(ew, r, "", meta.Created, content)
	if ew.status >= 500 {
		cause := content.err
		if cause == nil {
			cause = errors.New(strings.TrimSpace(string(ew.detail)))
		}
		s.log.ErrorContext(r.Context(), "download failed", "status", ew.status, "err", cause)
	}
}

// seekErrors keeps the last failed Seek's error, which ServeContent
// reports only as "seeker can't seek".
type seekErrors struct {
	io.ReadSeeker
	err error
}

func (s *seekErrors) Seek(offset int64, whence int) (int64, error) {
	n, err := s.ReadSeeker.Seek(offset, whence)
	if err != nil {
		s.err = err
	}
	return n, err
}

// envelopeErrors turns the errors http.ServeContent writes as plain text
// (416 for an unsatisfiable range, 412 for a failed precondition, 500 when
// the object cannot seek) into JSON envelopes. Their other headers, such as
// a 416's Content-Range, are kept; what ServeContent wrote as the body is
// kept aside for the log.
type envelopeErrors struct {
	http.ResponseWriter
	status int    // the error status, once one was written
	detail []byte // the start of ServeContent's error text
}

// errorMessages are the envelope messages of the statuses ServeContent
// writes; any other error status is reported by its standard text.
var errorMessages = map[int]string{
	http.StatusRequestedRangeNotSatisfiable: "Requested range not satisfiable",
	http.StatusPreconditionFailed:           "Precondition failed",
	http.StatusInternalServerError:          "Internal server error",
}

func (w *envelopeErrors) WriteHeader(code int) {
	if code < 400 || w.status != 0 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
	msg, ok := errorMessages[code]
	if !ok {
		msg = http.StatusText(code)
	}
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Cache-Control", "no-store")
	writeEnvelope(w.ResponseWriter, code, msg)
}

func (w *envelopeErrors) Write(p []byte) (int, error) {
	if w.status == 0 {
		return w.ResponseWriter.Write(p)
	}
	if room := 200 - len(w.detail); room > 0 {
		w.detail = append(w.detail, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// ReadFrom keeps the connection's own io.ReaderFrom (and its buffer pool)
// on the path of a successful download.
func (w *envelopeErrors) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && w.status == 0 {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w}, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *envelopeErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }
