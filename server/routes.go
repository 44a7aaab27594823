package server

import (
	"net/http"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// uploadPaths are the upload routes of both APIs; any method but POST is
// answered 405 there.
var uploadPaths = []string{
	"/api/file-stream-upload",
	"/api/file-base64-upload",
	"/api/file-url-upload",
	"/api/v1/files/upload/stream",
	"/api/v1/files/upload/base64",
	"/api/v1/files/upload/url",
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	badRequest := func(w http.ResponseWriter, r *http.Request, err error) {
		writeEnvelope(w, http.StatusBadRequest, "Invalid request: "+clipMessage(err.Error()))
	}
	kie.HandlerWithOptions(kieRoutes{s}, kie.StdHTTPServerOptions{BaseRouter: mux, ErrorHandlerFunc: badRequest})
	evolink.HandlerWithOptions(evolinkRoutes{s}, evolink.StdHTTPServerOptions{BaseRouter: mux, ErrorHandlerFunc: badRequest})
	for _, p := range uploadPaths {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeEnvelope(w, http.StatusMethodNotAllowed, "Method not allowed: use POST")
		})
	}
	mux.HandleFunc("GET /f/{path...}", s.downloadByLink)
	mux.HandleFunc("/f/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeEnvelope(w, http.StatusMethodNotAllowed, "Method not allowed: use GET or HEAD")
	})
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.metrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusNotFound, "Not found")
	})
	return s.observe(s.refuseAmbiguous(s.recoverPanics(mux)))
}
