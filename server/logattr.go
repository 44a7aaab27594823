package server

import (
	"log/slog"
	"unicode/utf8"
)

// maxLoggedString is the bound clientAttr puts on a client-chosen string
// in the log: room for a full file name, far less than a hostile header.
const maxLoggedString = 256

// truncationMark ends a client string that was cut to fit its bound.
const truncationMark = "…"

// clientAttr is the log attribute key = clientString(s, maxLoggedString).
// Use it for every client-chosen string the server logs (names, paths,
// header values).
func clientAttr(key, s string) slog.Attr {
	return slog.Attr{Key: key, Value: clientString(s, maxLoggedString)}
}

// clientString makes a client-chosen string safe to log: at most limit
// bytes, with every character that could hide or disguise text escaped, so
// a log line shows what the client sent, and no more than limit bytes of it.
//
// A backslash becomes `\\`, tab, newline and carriage return `\t`, `\n` and
// `\r`, a byte that is not UTF-8 `\xNN`, and any other character that
// rejectedRune refuses in names (controls, bidirectional controls,
// zero-width and other invisible characters) `\uNNNN` or `\UNNNNNNNN`.
// When the escaped text is longer than limit bytes, it is cut before an
// escape or a character, never inside one, and ends with "…", the whole
// still at most limit bytes (limit is raised to the 3 bytes of "…" if
// lower). The work done is proportional to limit, not to the length of s.
func clientString(s string, limit int) slog.Value {
	limit = max(limit, len(truncationMark))
	out := make([]byte, 0, min(len(s), limit)+len(truncationMark))
	keep := 0 // length of out that leaves room for the mark
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		next := appendEscaped(out, s[i:i+size], r, size)
		if len(next) > limit {
			return slog.StringValue(string(out[:keep]) + truncationMark)
		}
		out = next
		if len(out) <= limit-len(truncationMark) {
			keep = len(out)
		}
		i += size
	}
	return slog.StringValue(string(out))
}

// appendEscaped appends one character of a client string, the size bytes
// raw, that decoded as r, escaped as clientString documents.
func appendEscaped(out []byte, raw string, r rune, size int) []byte {
	const hex = "0123456789abcdef"
	switch {
	case r == utf8.RuneError && size == 1:
		return append(out, '\\', 'x', hex[raw[0]>>4], hex[raw[0]&0xf])
	case r == '\\':
		return append(out, '\\', '\\')
	case r == '\t':
		return append(out, '\\', 't')
	case r == '\n':
		return append(out, '\\', 'n')
	case r == '\r':
		return append(out, '\\', 'r')
	case !rejectedRune(r):
		return append(out, raw...)
	case r <= 0xffff:
		out = append(out, '\\', 'u')
		for shift := 12; shift >= 0; shift -= 4 {
			out = append(out, hex[r>>shift&0xf])
		}
		return out
	default:
		out = append(out, '\\', 'U')
		for shift := 28; shift >= 0; shift -= 4 {
			out = append(out, hex[r>>shift&0xf])
		}
		return out
	}
}
