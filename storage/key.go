package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on keys.
const (
	MaxKeyLen     = 1024
	MaxSegmentLen = 255
)

// CleanKey validates a key and returns it unchanged if it is clean: a
// relative, slash-separated path of at most MaxKeyLen bytes whose segments
// are non-empty, at most MaxSegmentLen bytes, not "." or "..", do not start
// with "." (reserved for hidden and temporary files), and contain no
// backslash, NUL or other control character. Invalid UTF-8 is rejected.
// Percent signs and look-alike Unicode characters are ordinary characters:
// they never act as separators, so a clean key always stays inside its
// tenant's namespace.
func CleanKey(key string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrInvalidKey, why)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("must be relative (no leading slash)")
	case strings.HasSuffix(key, "/"):
		return bad("must not end with a slash")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash not allowed")
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return bad("control characters not allowed")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return bad("empty path segment")
		case seg == "." || seg == "..":
			return bad(`"." and ".." segments not allowed`)
		case strings.HasPrefix(seg, "."):
			return bad("segments must not start with a dot")
		case len(seg) > MaxSegmentLen:
			return bad(fmt.Sprintf("segment longer than %d bytes", MaxSegmentLen))
		}
	}
	return key, nil
}
