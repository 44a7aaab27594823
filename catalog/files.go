package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// fileColumns are the files table's columns in the order scanFile reads.
const fileColumns = `id, tenant, path, name, link, object, size, content_type, checksum, original_name, created_ms, expires_ms`

// live is the condition on files that have not expired at the time given
// as its parameter.
const live = `(expires_ms IS NULL OR expires_ms > ?)`

// scanFile reads a row of fileColumns.
func scanFile(row interface{ Scan(...any) error }) (File, error) {
	var f File
	var created int64
	var expires sql.NullInt64
	err := row.Scan(&f.ID, &f.Tenant, &f.Path, &f.Name, &f.Link, &f.Object, &f.Size,
		&f.ContentType, &f.Checksum, &f.OriginalName, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, ErrNotFound
	}
	f.Created = fromMs(created)
	if expires.Valid {
		f.Expires = fromMs(expires.Int64)
	}
	return f, err
}

// stored is f as the catalog stores it: times in UTC, to the millisecond.
func stored(f File) File {
	f.Created = fromMs(ms(f.Created))
	if !f.Expires.IsZero() {
		f.Expires = fromMs(ms(f.Expires))
	}
	return f
}

// insertFile adds f's row. ErrExists if its ID, object, or link and name
// are taken by another file.
func (c *sqlCatalog) insertFile(ctx context.Context, tx conn, f File) error {
	_, err := tx.exec(ctx, `INSERT INTO files (`+fileColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.Tenant, f.Path, f.Name, f.Link, f.Object, f.Size,
		f.ContentType, f.Checksum, f.OriginalName, ms(f.Created), expiresMs(f.Expires))
	if err != nil && c.d.uniqueViolation(err) {
		return fmt.Errorf("%w: the file's ID, object, or link and name belong to another file", ErrExists)
	}
	return err
}

// fileAt returns the file at (tenant, path, name), live or expired;
// ErrNotFound if there is none.
func fileAt(ctx context.Context, tx conn, tenant, path, name string) (File, error) {
	return scanFile(tx.row(ctx, `SELECT `+fileColumns+` FROM files WHERE tenant = ? AND path = ? AND name = ?`,
		tenant, path, name))
}

// dropFile removes a file of a tenant whose row the transaction holds and
// queues its object for deletion after the garbage delay. It returns the
// change to the tenant's usage, for the caller to make.
func (c *sqlCatalog) dropFile(ctx context.Context, tx conn, f File, now time.Time) (delta, error) {
	if _, err := tx.exec(ctx, `DELETE FROM files WHERE id = ?`, f.ID); err != nil {
		return delta{}, err
	}
	return delta{usedBytes: -f.Size, usedFiles: -1}, queueGarbage(ctx, tx, []string{f.Object}, now.Add(c.garbageDelay))
}

// Commit makes f the live file at (f.Tenant, f.Path, f.Name).
func (c *sqlCatalog) Commit(ctx context.Context, f File, rec *Record, limits Limits, now time.Time) (File, error) {
	if err := firstErr(checkFile(f), checkRecord(rec, f)); err != nil {
		return File{}, err
	}
	var out File
	var replay *ReplayError
	err := c.withTx(ctx, func(tx conn) (err error) {
		out, replay, err = c.commit(ctx, tx, stored(f), rec, limits, now)
		return err
	})
	var q *QuotaError
	if errors.As(err, &q) {
		return File{}, q
	}
	if err == nil && replay != nil {
		return File{}, replay
	}
	if err != nil {
		return File{}, opErr("commit", err)
	}
	return out, nil
}

// commit is Commit's transaction. A *QuotaError it returns rolls it back.
func (c *sqlCatalog) commit(ctx context.Context, tx conn, f File, rec *Record, limits Limits, now time.Time) (File, *ReplayError, error) {
	u, err := takeUpload(ctx, tx, f.Object)
	if err != nil {
		return File{}, nil, err
	}
	if u.tenant != f.Tenant {
		return File{}, nil, fmt.Errorf("%w: object %q was begun by another tenant", ErrUploadGone, f.Object)
	}
	t, err := lockTenant(ctx, tx, f.Tenant)
	if err != nil {
		return File{}, nil, err
	}
	old, err := fileAt(ctx, tx, f.Tenant, f.Path, f.Name)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return File{}, nil, err
	}
	replaces := found && !old.Expired(now)
	if replaces {
		f.Link = old.Link
	} else if u.files == 0 {
		// It reserved no file to replace one that is gone: it needs one
		// now (an expired file there is removed below, freeing its own).
		if found {
			t.usedFiles--
		}
		if q := t.over(limits, 1, 0); q != nil {
			return File{}, nil, q
		}
	}
	if rec != nil {
		first, err := putRecord(ctx, tx, *rec, f, now)
		if err != nil || first != nil {
			if err == nil {
				err = abortUpload(ctx, tx, u, now)
			}
			return File{}, first, err
		}
	}
	d := delta{usedBytes: f.Size, usedFiles: 1, reservedBytes: -u.bytes, reservedFiles: -u.files}
	if found {
		dropped, err := c.dropFile(ctx, tx, old, now)
		if err != nil {
			return File{}, nil, err
		}
		d = d.plus(dropped)
	}
	if err := c.insertFile(ctx, tx, f); err != nil {
		return File{}, nil, err
	}
	return f, nil, adjust(ctx, tx, f.Tenant, d)
}

// Import adds a file that is already stored, without limits.
func (c *sqlCatalog) Import(ctx context.Context, f File, now time.Time) (File, error) {
	if err := checkFile(f); err != nil {
		return File{}, err
	}
	f = stored(f)
	var existing *File
	err := c.withTx(ctx, func(tx conn) error {
		existing = nil
		if err := ensureTenant(ctx, tx, f.Tenant); err != nil {
			return err
		}
		if _, err := lockTenant(ctx, tx, f.Tenant); err != nil {
			return err
		}
		d := delta{usedBytes: f.Size, usedFiles: 1}
		old, err := fileAt(ctx, tx, f.Tenant, f.Path, f.Name)
		switch {
		case err == nil && !old.Expired(now):
			existing = &old
			return nil
		case err == nil:
			var dropped delta
			dropped, err = c.dropFile(ctx, tx, old, now)
			d = d.plus(dropped)
		case errors.Is(err, ErrNotFound):
			err = nil
		}
		if err != nil {
			return err
		}
		if err := c.insertFile(ctx, tx, f); err != nil {
			return err
		}
		return adjust(ctx, tx, f.Tenant, d)
	})
	if err == nil && existing != nil {
		return *existing, ErrExists
	}
	if err != nil {
		return File{}, opErr("import", err)
	}
	return f, nil
}

// File returns the live file at (tenant, path, name) at now.
func (c *sqlCatalog) File(ctx context.Context, tenant, path, name string, now time.Time) (File, error) {
	return c.lookup(ctx, `tenant = ? AND path = ? AND name = ?`, now, tenant, path, name)
}

// FileByID returns the live file with the given ID at now.
func (c *sqlCatalog) FileByID(ctx context.Context, id string, now time.Time) (File, error) {
	return c.lookup(ctx, `id = ?`, now, id)
}

// FileByLink returns the live file with the given Link and Name at now.
func (c *sqlCatalog) FileByLink(ctx context.Context, link, name string, now time.Time) (File, error) {
	return c.lookup(ctx, `link = ? AND name = ?`, now, link, name)
}

// lookup returns the live file that where (a condition on keys) selects.
func (c *sqlCatalog) lookup(ctx context.Context, where string, now time.Time, keys ...string) (File, error) {
	if !textOK(keys...) {
		return File{}, ErrNotFound
	}
	f, err := scanFile(c.reader().row(ctx, `SELECT `+fileColumns+` FROM files WHERE `+where+` AND `+live, args(keys, ms(now))...))
	return f, opErr("look up file", err)
}

// Usage returns what the tenant stores at now, after removing its
// expired files.
func (c *sqlCatalog) Usage(ctx context.Context, tenant string, now time.Time) (Usage, error) {
	if !textOK(tenant) {
		return Usage{}, nil
	}
	var u Usage
	err := c.withTx(ctx, func(tx conn) error {
		u = Usage{}
		t, err := lockTenant(ctx, tx, tenant)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		for n := c.expireBatch; err == nil && n == c.expireBatch; {
			n, err = c.expireFiles(ctx, tx, []string{tenant}, now, c.expireBatch)
		}
		if err == nil {
			t, err = lockTenant(ctx, tx, tenant)
		}
		u = Usage{Bytes: t.usedBytes, Files: t.usedFiles}
		return err
	})
	return u, opErr("usage", err)
}
