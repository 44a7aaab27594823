package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/fileup/fileup/catalog"
)

// uploadOp is one upload operation of one API.
type uploadOp struct {
	rules *apiRules
	// scope names the operation in idempotency records.
	scope string
	// receive reads the request and stores the file.
	receive func(s *Server, ctx context.Context, rules *apiRules, tenant string, r *http.Request) (catalog.File, *apiError)
	// respond writes the API's success response for a stored file.
	respond func(s *Server, w http.ResponseWriter, r *http.Request, f catalog.File)
}

// serveUpload runs one upload request: authentication, the idempotency
// key, the per-token limit of concurrent uploads, the body's limits, then
// the operation.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request, op uploadOp) {
	// Reading the body after answering needs full duplex on HTTP/1.
	_ = http.NewResponseController(w).EnableFullDuplex()
	defer linger(w, r, r.Body)
	tenant, ok := s.authenticate(w, r)
	if !ok {
		s.metrics.upload(op.rules.api, http.StatusUnauthorized, 0)
		return
	}
	f, aerr := s.upload(w, r, tenant, op)
	if aerr != nil {
		status := apiStatus(aerr.Status)
		if status != http.StatusOK && r.ContentLength != 0 {
			// The body may be unread: do not let the next request on this
			// connection wait behind it.
			w.Header().Set("Connection", "close")
		}
		s.metrics.upload(op.rules.api, status, 0)
		writeEnvelope(w, status, aerr.Msg)
		return
	}
	s.metrics.upload(op.rules.api, http.StatusOK, f.Size)
	op.respond(s, w, r, f)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, tenant string, op uploadOp) (catalog.File, *apiError) {
	key, aerr := idempotencyKey(r)
	if aerr != nil {
		return catalog.File{}, aerr
	}
	ctx := r.Context()
	if key != "" {
		f, found, aerr := s.replay(ctx, tenant, op.scope, key)
		if aerr != nil || found {
			w.Header().Set("Connection", "close") // the body is not read
			return f, aerr
		}
		ctx = withRecord(ctx, &catalog.Record{Scope: op.scope, Key: key, Expires: s.now().Add(s.cfg.IdempotencyTTL)})
	}
	if r.ContentLength > s.maxBody() {
		return catalog.File{}, errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", s.cfg.MaxUploadSize))
	}
	leave, ok := s.active.enter(tenant)
	if !ok {
		return catalog.File{}, errorf(http.StatusTooManyRequests, "Too many uploads in progress for this API key: retry when one has finished")
	}
	defer leave()
	s.metrics.inflight.Add(1)
	defer s.metrics.inflight.Add(-1)
	r.Body = s.limitBody(w, r)
	return op.receive(s, ctx, op.rules, tenant, r)
}

// A refused upload is usually answered before its body has arrived. If
// the server closed the connection at once, the client, still sending,
// would get a connection reset that discards the answer. So after an
// answer the server reads and discards what is left of the body, up to
// lingerBytes or for lingerTimeout, whichever comes first, before the
// connection closes (the lingering close of RFC 9112 §9.6).
const (
	lingerBytes   = 8 << 20
	lingerTimeout = 2 * time.Second
)

// linger flushes the answer, then drains what is left of body within the
// bounds above. A body already read to its end costs one read.
func linger(w http.ResponseWriter, r *http.Request, body io.Reader) {
	if r.ContentLength == 0 || body == nil || body == http.NoBody {
		return
	}
	ctl := http.NewResponseController(w)
	if ctl.Flush() != nil {
		return
	}
	_ = ctl.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.CopyN(io.Discard, body, lingerBytes)
}

// apiStatus is the status the specs let an error be answered with: a
// stalled upload (408, which neither spec has) is a request error, since
// the client is usually gone.
func apiStatus(status int) int {
	if status == http.StatusRequestTimeout {
		return http.StatusBadRequest
	}
	return status
}

// formOverhead is the room a request body gets beyond the file size
// limit, for the form's other parts or the JSON around base64 data.
const formOverhead = 1 << 20

// limitBody caps the request body at what an upload can need and cuts
// clients that stall. The parsers read it in large reads of their own
// buffers, so it is not buffered here.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) io.ReadCloser {
	rc := http.MaxBytesReader(w, r.Body, s.maxBody())
	return &stallReader{rc: rc, ctl: http.NewResponseController(w), timeout: s.cfg.StallTimeout}
}

// maxBody is the largest request body an upload accepts: base64 data of
// a file of the maximum size, plus room for the rest of the request.
func (s *Server) maxBody() int64 {
	return (s.cfg.MaxUploadSize+2)/3*4 + formOverhead
}

// writeJSON writes a 200 response with a JSON body.
func writeJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, http.StatusOK, body)
}

// utc returns t in UTC for responses.
func utc(t time.Time) time.Time { return t.UTC() }
