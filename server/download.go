package server

import (
	"errors"
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
	http.ServeContent(w, r, "", meta.Created, obj)
}
