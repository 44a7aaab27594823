package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// fileJSON is how a record's file is stored: the File with its times in
// Unix milliseconds.
type fileJSON struct {
	ID           string `json:"id"`
	Tenant       string `json:"tenant"`
	Path         string `json:"path"`
	Name         string `json:"name"`
	Link         string `json:"link"`
	Object       string `json:"object"`
	Size         int64  `json:"size"`
	ContentType  string `json:"content_type"`
	Checksum     string `json:"checksum"`
	OriginalName string `json:"original_name"`
	CreatedMs    int64  `json:"created_ms"`
	ExpiresMs    *int64 `json:"expires_ms,omitempty"`
}

func encodeFile(f File) (string, error) {
	j := fileJSON{
		ID: f.ID, Tenant: f.Tenant, Path: f.Path, Name: f.Name, Link: f.Link, Object: f.Object,
		Size: f.Size, ContentType: f.ContentType, Checksum: f.Checksum, OriginalName: f.OriginalName,
		CreatedMs: ms(f.Created),
	}
	if !f.Expires.IsZero() {
		e := ms(f.Expires)
		j.ExpiresMs = &e
	}
	b, err := json.Marshal(j)
	return string(b), err
}

func decodeFile(s string) (File, error) {
	var j fileJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return File{}, fmt.Errorf("decode a record's file: %w", err)
	}
	f := File{
		ID: j.ID, Tenant: j.Tenant, Path: j.Path, Name: j.Name, Link: j.Link, Object: j.Object,
		Size: j.Size, ContentType: j.ContentType, Checksum: j.Checksum, OriginalName: j.OriginalName,
		Created: fromMs(j.CreatedMs),
	}
	if j.ExpiresMs != nil {
		f.Expires = fromMs(*j.ExpiresMs)
	}
	return f, nil
}

// putRecord stores rec with f as its file, unless an unexpired record of
// its (Tenant, Scope, Key) exists: then it returns that record as a
// *ReplayError and stores nothing. An expired one is replaced.
func putRecord(ctx context.Context, tx conn, rec Record, f File, now time.Time) (*ReplayError, error) {
	body, err := encodeFile(f)
	if err != nil {
		return nil, err
	}
	res, err := tx.exec(ctx, `INSERT INTO records (tenant, scope, key, file, expires_ms) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant, scope, key) DO UPDATE SET file = excluded.file, expires_ms = excluded.expires_ms
		WHERE records.expires_ms <= ?`,
		rec.Tenant, rec.Scope, rec.Key, body, ms(rec.Expires), ms(now))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil, err
	}
	first, err := getRecord(ctx, tx, rec.Tenant, rec.Scope, rec.Key, now)
	if err != nil {
		return nil, err
	}
	return &ReplayError{Record: first}, nil
}

// getRecord returns the record unexpired at now, or ErrNotFound.
func getRecord(ctx context.Context, q conn, tenant, scope, key string, now time.Time) (Record, error) {
	r := Record{Tenant: tenant, Scope: scope, Key: key}
	var body string
	var expires int64
	err := q.row(ctx, `SELECT file, expires_ms FROM records WHERE tenant = ? AND scope = ? AND key = ? AND expires_ms > ?`,
		tenant, scope, key, ms(now)).Scan(&body, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, err
	}
	r.Expires = fromMs(expires)
	r.File, err = decodeFile(body)
	return r, err
}

// Replay returns the unexpired idempotency record, or ErrNotFound.
func (c *sqlCatalog) Replay(ctx context.Context, tenant, scope, key string, now time.Time) (Record, error) {
	if !textOK(tenant, scope, key) {
		return Record{}, ErrNotFound
	}
	r, err := getRecord(ctx, c.reader(), tenant, scope, key, now)
	return r, opErr("replay", err)
}
