package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/fileup/fileup/catalog"
)

// IdempotencyHeader carries a client's key for an upload: retries of one
// upload send the same key, and the server answers them with the first
// upload's result instead of storing the file again.
const IdempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the key's length.
const maxIdempotencyKey = 255

// idempotencyKey returns the request's key ("" when it has none); a key
// that is too long or not printable ASCII is a 400.
func idempotencyKey(r *http.Request) (string, *apiError) {
	vs := r.Header.Values(IdempotencyHeader)
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", errorf(http.StatusBadRequest, "Invalid Idempotency-Key: sent more than once")
	}
	k := vs[0]
	if k == "" || len(k) > maxIdempotencyKey {
		return "", errorf(http.StatusBadRequest, "Invalid Idempotency-Key: 1 to 255 characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", errorf(http.StatusBadRequest, "Invalid Idempotency-Key: printable ASCII only, no spaces")
		}
	}
	return k, nil
}

type recordKey struct{}

// withRecord carries the idempotency record an upload commits with.
func withRecord(ctx context.Context, rec *catalog.Record) context.Context {
	return context.WithValue(ctx, recordKey{}, rec)
}

// recordFrom returns the upload's idempotency record, or nil.
func recordFrom(ctx context.Context) *catalog.Record {
	rec, _ := ctx.Value(recordKey{}).(*catalog.Record)
	return rec
}

// replay returns the file a first request with the same key stored, if
// there was one.
func (s *Server) replay(ctx context.Context, tenant, scope, key string) (catalog.File, bool, *apiError) {
	rec, err := s.cat.Replay(ctx, tenant, scope, key, s.now())
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return catalog.File{}, false, nil
	case err != nil:
		return catalog.File{}, false, s.catalogError(ctx, err)
	}
	return rec.File, true, nil
}
