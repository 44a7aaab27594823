package catalog

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns a setting's value, or ErrNotFound.
func (c *sqlCatalog) Setting(ctx context.Context, key string) (string, error) {
	if !textOK(key) {
		return "", ErrNotFound
	}
	return getSetting(ctx, c.reader(), key)
}

// InitSetting stores value under key unless the key is set already, and
// returns the value stored.
func (c *sqlCatalog) InitSetting(ctx context.Context, key, value string) (string, error) {
	if err := firstErr(checkID("setting key", key), checkLen("setting key", key), checkText("setting value", value)); err != nil {
		return "", err
	}
	var got string
	err := c.withTx(ctx, func(tx conn) (err error) {
		if _, err := tx.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, value); err != nil {
			return err
		}
		got, err = getSetting(ctx, tx, key)
		return err
	})
	return got, opErr("init setting", err)
}

func getSetting(ctx context.Context, q conn, key string) (string, error) {
	var v string
	err := q.row(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, opErr("setting", err)
}
