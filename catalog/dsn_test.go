package catalog

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn, kind, target string
		err               string // a part of the error; "" for none
	}{
		{dsn: "sqlite:/var/lib/fileup/catalog.db", kind: "sqlite", target: "/var/lib/fileup/catalog.db"},
		{dsn: "sqlite:catalog.db", kind: "sqlite", target: "catalog.db"},
		{dsn: "sqlite:./data/a b.db", kind: "sqlite", target: "./data/a b.db"},
		{dsn: "postgres://u:pw@db.example:5432/fileup", kind: "postgres", target: "postgres://u:pw@db.example:5432/fileup"},
		{dsn: "postgresql://db/fileup?sslmode=disable", kind: "postgres", target: "postgresql://db/fileup?sslmode=disable"},
		{dsn: "sqlite:", err: "without a path"},
		{dsn: "sqlite::memory:", err: "in-memory"},
		{dsn: "sqlite:file::memory:", err: "in-memory"},
		{dsn: "sqlite:/a/catalog.db?mode=ro", err: "may not contain '?'"},
		{dsn: "sqlite:/a/catalog.db#x", err: "may not contain"},
		{dsn: "postgres:db/fileup", err: "is a URL"},
		{dsn: "mysql://u:pw@db/fileup", err: `unknown DSN scheme "mysql"`},
		{dsn: "/var/lib/fileup/catalog.db", err: "no scheme"},
		{dsn: "", err: "no scheme"},
	}
	for _, tt := range tests {
		kind, target, err := parseDSN(tt.dsn)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseDSN(%q) = %v, want an error with %q", tt.dsn, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("parseDSN(%q): error %q quotes the password", tt.dsn, err)
			}
			continue
		}
		if err != nil || kind != tt.kind || target != tt.target {
			t.Errorf("parseDSN(%q) = %q, %q, %v; want %q, %q", tt.dsn, kind, target, err, tt.kind, tt.target)
		}
	}
}

// FuzzParseDSN: any string is accepted as one of the two kinds, unchanged,
// or refused without quoting anything after its scheme (a password).
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite:/data/catalog.db", "postgres://u:p@h:5432/d?sslmode=disable", "postgresql://h/d", "sqlite::memory:", "x:y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		const secret = "S3CR3T"
		kind, target, err := parseDSN(dsn + secret)
		switch {
		case err != nil:
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q quotes the DSN", err)
			}
		case kind == "sqlite":
			if "sqlite:"+target != dsn+secret || checkSQLitePath(target) != nil {
				t.Fatalf("sqlite target %q of %q", target, dsn)
			}
		case kind == "postgres":
			if target != dsn+secret || !(strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")) {
				t.Fatalf("postgres target %q of %q", target, dsn)
			}
		default:
			t.Fatalf("kind %q", kind)
		}
	})
}

// FuzzFileJSON: a record's file comes back from its JSON as stored.
func FuzzFileJSON(f *testing.F) {
	f.Add("id", "tenant", "images/x", "a.png", "link", "object", int64(12), "image/png", "sha256:ab", "orig \"name\"", int64(1_900_000_000_123), int64(0))
	f.Add("", "", "", "", "", "", int64(-1), "", "", "\u2028", int64(-62135596800000), int64(-5))
	f.Fuzz(func(t *testing.T, id, tenant, path, name, link, object string, size int64, ctype, sum, orig string, created, expires int64) {
		for _, s := range []string{id, tenant, path, name, link, object, ctype, sum, orig} {
			if !utf8.ValidString(s) {
				return // refused before it could be stored
			}
		}
		in := File{ID: id, Tenant: tenant, Path: path, Name: name, Link: link, Object: object, Size: size,
			ContentType: ctype, Checksum: sum, OriginalName: orig, Created: fromMs(created)}
		if expires != 0 {
			in.Expires = fromMs(expires)
		}
		body, err := encodeFile(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := decodeFile(body)
		if err != nil || out != in {
			t.Fatalf("decodeFile(%s) = %+v, %v; want %+v", body, out, err, in)
		}
	})
}

// FuzzDecodeFile: whatever a records row holds, decoding it fails cleanly
// or gives a file.
func FuzzDecodeFile(f *testing.F) {
	f.Add(`{"id":"i","created_ms":1,"expires_ms":2}`)
	f.Add(`{"size":"x"}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, s string) {
		if f, err := decodeFile(s); err == nil && f.Created.Location() != time.UTC {
			t.Fatalf("decodeFile(%q): Created in %v", s, f.Created.Location())
		}
	})
}
