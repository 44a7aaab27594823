package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// uploadRow is one row of the uploads table.
type uploadRow struct {
	object, tenant string
	bytes, files   int64
}

// lockUpload reads an upload's row and locks it for the transaction;
// ErrUploadGone if there is none.
func lockUpload(ctx context.Context, tx conn, object string) (uploadRow, error) {
	u := uploadRow{object: object}
	err := tx.row(ctx, `SELECT tenant, bytes, files FROM uploads WHERE object = ?`+lockRows, object).Scan(&u.tenant, &u.bytes, &u.files)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrUploadGone
	}
	return u, err
}

// objectInUse reports whether a file, an upload or the garbage queue holds
// the object key.
func objectInUse(ctx context.Context, tx conn, object string) (bool, error) {
	var one int
	err := tx.row(ctx, `SELECT 1 FROM files WHERE object = ?
		UNION ALL SELECT 1 FROM uploads WHERE object = ?
		UNION ALL SELECT 1 FROM garbage WHERE object = ? LIMIT 1`, object, object, object).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Begin records an upload and reserves one file (none when it replaces
// a live file) and u.Bytes bytes.
func (c *sqlCatalog) Begin(ctx context.Context, u Upload, limits Limits, now time.Time) error {
	if err := checkUpload(u); err != nil {
		return err
	}
	var refused *QuotaError
	err := c.withTx(ctx, func(tx conn) error {
		refused = nil
		// Checked before the tenant's row is locked, to hold it for
		// less: a key begun at once elsewhere fails the INSERT below.
		if used, err := objectInUse(ctx, tx, u.Object); err != nil || used {
			return firstErr(err, ErrExists)
		}
		if err := ensureTenant(ctx, tx, u.Tenant); err != nil {
			return err
		}
		files, err := c.filesToReserve(ctx, tx, u, now)
		if err != nil {
			return err
		}
		q, err := c.reserve(ctx, tx, u.Tenant, limits, files, u.Bytes, now)
		if err != nil || q != nil {
			refused = q // commit the expired files' removal
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO uploads (object, tenant, bytes, files, lease_ms) VALUES (?, ?, ?, ?, ?)`,
			u.Object, u.Tenant, u.Bytes, files, ms(u.Lease)); err != nil {
			if c.d.uniqueViolation(err) {
				return ErrExists
			}
			return err
		}
		return adjust(ctx, tx, u.Tenant, delta{reservedBytes: u.Bytes, reservedFiles: files})
	})
	if err == nil && refused != nil {
		return refused
	}
	return opErr("begin", err)
}

// filesToReserve is 1, or 0 when u names the place of a live file it will
// replace. It locks the tenant's row first: the tenant's files do not
// change under the check.
func (c *sqlCatalog) filesToReserve(ctx context.Context, tx conn, u Upload, now time.Time) (int64, error) {
	if u.Path == "" && u.Name == "" {
		return 1, nil
	}
	if _, err := lockTenant(ctx, tx, u.Tenant); err != nil {
		return 0, err
	}
	old, err := fileAt(ctx, tx, u.Tenant, u.Path, u.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		return 1, nil
	case err != nil:
		return 0, err
	case old.Expired(now):
		return 1, nil
	}
	return 0, nil
}

// Reserve adds bytes to an upload's reservation and moves its lease.
func (c *sqlCatalog) Reserve(ctx context.Context, object string, bytes int64, lease time.Time, limits Limits, now time.Time) error {
	if bytes < 0 {
		return invalid("reservation of %d bytes is negative", bytes)
	}
	if lease.IsZero() {
		return invalid("reservation without a lease")
	}
	if !textOK(object) {
		return ErrUploadGone
	}
	var refused *QuotaError
	err := c.withTx(ctx, func(tx conn) error {
		refused = nil
		u, err := lockUpload(ctx, tx, object)
		if err != nil {
			return err
		}
		total, ok := addTo(u.bytes, bytes)
		if !ok {
			return invalid("reservation of upload %q overflows", object)
		}
		if bytes > 0 {
			q, err := c.reserve(ctx, tx, u.tenant, limits, 0, bytes, now)
			if err != nil || q != nil {
				refused = q
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE uploads SET bytes = ?, lease_ms = ? WHERE object = ?`,
			total, ms(lease), object); err != nil {
			return err
		}
		return adjust(ctx, tx, u.tenant, delta{reservedBytes: bytes})
	})
	if err == nil && refused != nil {
		return refused
	}
	return opErr("reserve", err)
}

// takeUpload removes an upload's row, which locks it for the transaction
// as lockUpload does, and returns it; ErrUploadGone if there is none.
func takeUpload(ctx context.Context, tx conn, object string) (uploadRow, error) {
	u := uploadRow{object: object}
	err := tx.row(ctx, `DELETE FROM uploads WHERE object = ? RETURNING tenant, bytes, files`, object).Scan(&u.tenant, &u.bytes, &u.files)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrUploadGone
	}
	return u, err
}

// Abort releases an upload's reservation and queues its object for
// deletion now.
func (c *sqlCatalog) Abort(ctx context.Context, object string, now time.Time) error {
	if !textOK(object) {
		return nil
	}
	err := c.withTx(ctx, func(tx conn) error {
		u, err := takeUpload(ctx, tx, object)
		if errors.Is(err, ErrUploadGone) {
			return nil
		}
		if err != nil {
			return err
		}
		return abortUpload(ctx, tx, u, now)
	})
	return opErr("abort", err)
}

// abortUpload ends an upload that takeUpload took: its reservation is
// released and its object queued for deletion at now.
func abortUpload(ctx context.Context, tx conn, u uploadRow, now time.Time) error {
	if err := adjust(ctx, tx, u.tenant, delta{reservedBytes: -u.bytes, reservedFiles: -u.files}); err != nil {
		return err
	}
	return queueGarbage(ctx, tx, []string{u.object}, now)
}
