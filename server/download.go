package server

import (
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/httprange"
	"github.com/fileup/fileup/storage"
)

// baseURL is the base of the URLs returned to a request's client.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// fileURL is a file's public download URL, /f/<link>/<name>.
func (s *Server) fileURL(r *http.Request, f catalog.File) string {
	segs := strings.Split(f.Link+"/"+f.Name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return s.baseURL(r) + "/f/" + strings.Join(segs, "/")
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

// downloadByLink serves GET and HEAD of /f/<link>/<name>.
func (s *Server) downloadByLink(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || i == len(p)-1 {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	f, err := s.cat.FileByLink(r.Context(), p[:i], p[i+1:], s.now())
	s.serveFile(w, r, f, err)
}

// downloadByID serves evolink's download_url, /api/v1/files/download/file_<id>.
func (s *Server) downloadByID(w http.ResponseWriter, r *http.Request, fileID string) {
	id, ok := strings.CutPrefix(fileID, evolinkIDPrefix)
	if !ok || id == "" {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	f, err := s.cat.FileByID(r.Context(), id, s.now())
	s.serveFile(w, r, f, err)
}

// serveFile serves a file found in the catalog (err is the lookup's
// error) with Range, ETag, Last-Modified and conditional requests. A disk
// object reaches http.ServeContent as the *os.File itself, so its bytes
// go out with sendfile(2).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, f catalog.File, err error) {
	if errors.Is(err, catalog.ErrNotFound) {
		writeEnvelope(w, http.StatusNotFound, "File not found")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "download failed: catalog", "err", err)
		writeEnvelope(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	obj, err := s.store.Open(r.Context(), f.Object)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, storage.ErrNotFound) {
			status = http.StatusNotFound // expired and collected meanwhile
		}
		s.log.ErrorContext(r.Context(), "download failed: store", "status", status, "err", redact(err, f.Object))
		writeEnvelope(w, status, http.StatusText(status))
		return
	}
	defer obj.Close()
	s.fileHeaders(w, r, f)
	// Overlapping or countless ranges are merged, an unsatisfiable one
	// made one that ServeContent answers 416 (after If-Range and the
	// other conditions, which keep their priority).
	httprange.Apply(r, f.Size)
	dw := &deadlineWriter{ResponseWriter: w, timeout: s.cfg.WriteTimeout}
	defer dw.reset()
	ew := &envelopeErrors{ResponseWriter: dw}
	http.ServeContent(ew, r, "", f.Created, obj)
	if ew.status >= 500 {
		s.log.ErrorContext(r.Context(), "download failed", "status", ew.status, "err", strings.TrimSpace(string(ew.detail)))
	}
}

// fileHeaders sets a download's headers: the detected type, never sniffed
// by browsers; script-capable types as attachments in a sandbox; a strong
// ETag (objects never change, so the file's id identifies its bytes).
func (s *Server) fileHeaders(w http.ResponseWriter, r *http.Request, f catalog.File) {
	h := w.Header()
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mediaType, _, _ := mime.ParseMediaType(ct)
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("ETag", `"`+f.ID+`"`)
	disposition := "inline"
	if !inlineTypes[mediaType] || r.URL.Query().Has("download") {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
}

// redact describes a store error without the object's key (it holds the
// file's id, which is a download capability) or the store's paths.
func redact(err error, object string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), object, "<object>")
}

// deadlineWriter gives every write of a download its own deadline, so a
// client that stops reading is cut after timeout while a slow one is not.
// A file's bytes are sent in chunks of deadlineChunk, each by the
// connection's own ReadFrom (sendfile for a file).
type deadlineWriter struct {
	http.ResponseWriter
	timeout time.Duration
	ctl     *http.ResponseController
}

const deadlineChunk = 256 << 10

func (w *deadlineWriter) extend() {
	if w.ctl == nil {
		w.ctl = http.NewResponseController(w.ResponseWriter)
	}
	_ = w.ctl.SetWriteDeadline(time.Now().Add(w.timeout))
}

// reset lifts the deadline for what the connection does next.
func (w *deadlineWriter) reset() {
	if w.ctl != nil {
		_ = w.ctl.SetWriteDeadline(time.Time{})
	}
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// ReadFrom sends r in chunks, each with a fresh deadline; a chunk of a
// file sent by a LimitedReader over it still goes out with sendfile.
func (w *deadlineWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	lr, limited := r.(*io.LimitedReader)
	if !ok || !limited {
		return io.Copy(writerOnly{w}, r)
	}
	var total int64
	for lr.N > 0 {
		w.extend()
		n, err := rf.ReadFrom(&io.LimitedReader{R: lr.R, N: min(lr.N, deadlineChunk)})
		total += n
		lr.N -= n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

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
	h.Del("ETag")
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

// ReadFrom keeps the connection's own io.ReaderFrom (sendfile) on the
// path of a successful download.
func (w *envelopeErrors) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && w.status == 0 {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w}, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *envelopeErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }
