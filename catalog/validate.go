package catalog

import (
	"strings"
	"unicode/utf8"
)

// checkText refuses a string a text column cannot hold alike in every
// dialect: invalid UTF-8, or a NUL byte (which PostgreSQL's text refuses
// and SQLite would store). Lengths are the server's to bound.
func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalid("%s contains a NUL byte", field)
	}
	return nil
}

// checkID is checkText for a string that must not be empty either.
func checkID(field, s string) error {
	if s == "" {
		return invalid("%s is empty", field)
	}
	return checkText(field, s)
}

// maxKey bounds each string the catalog indexes, and maxKeys the strings
// of one composite key together, so that every key fits in an index entry
// of every dialect: PostgreSQL's B-tree refuses entries over about 2.7 kB.
const maxKey, maxKeys = 1024, 2048

// checkLen refuses the strings of one key if one is longer than maxKey
// bytes or all are longer than maxKeys together.
func checkLen(what string, ss ...string) error {
	n := 0
	for _, s := range ss {
		if len(s) > maxKey {
			return invalid("%s: a string of %d bytes, longer than %d", what, len(s), maxKey)
		}
		n += len(s)
	}
	if n > maxKeys {
		return invalid("%s: %d bytes together, more than %d", what, n, maxKeys)
	}
	return nil
}

// firstErr returns the first error of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// textOK reports whether every string could be stored, so that a lookup
// of one that could not answers ErrNotFound instead of a database error.
func textOK(ss ...string) bool {
	for _, s := range ss {
		if checkText("", s) != nil {
			return false
		}
	}
	return true
}

func checkFile(f File) error {
	if f.Size < 0 {
		return invalid("file size %d is negative", f.Size)
	}
	return firstErr(
		checkID("file ID", f.ID),
		checkID("tenant", f.Tenant),
		checkText("path", f.Path),
		checkID("file name", f.Name),
		checkText("link", f.Link),
		checkID("object key", f.Object),
		checkText("content type", f.ContentType),
		checkText("checksum", f.Checksum),
		checkText("original name", f.OriginalName),
		checkLen("file ID", f.ID),
		checkLen("object key", f.Object),
		checkLen("tenant, path and name", f.Tenant, f.Path, f.Name),
		checkLen("link and name", f.Link, f.Name),
	)
}

func checkUpload(u Upload) error {
	if u.Bytes < 0 {
		return invalid("reservation of %d bytes is negative", u.Bytes)
	}
	if u.Lease.IsZero() {
		return invalid("upload without a lease")
	}
	return firstErr(checkID("object key", u.Object), checkID("tenant", u.Tenant),
		checkLen("object key", u.Object), checkLen("tenant", u.Tenant),
		checkText("path", u.Path), checkText("file name", u.Name),
		checkLen("tenant, path and name", u.Tenant, u.Path, u.Name))
}

func checkRecord(r *Record, f File) error {
	if r == nil {
		return nil
	}
	if r.Tenant != f.Tenant {
		return invalid("record tenant %q is not the file's %q", r.Tenant, f.Tenant)
	}
	if r.Expires.IsZero() {
		return invalid("idempotency record without an expiry")
	}
	return firstErr(checkText("record scope", r.Scope), checkID("record key", r.Key),
		checkLen("record tenant, scope and key", r.Tenant, r.Scope, r.Key))
}
