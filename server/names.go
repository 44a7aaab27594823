package server

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the names a client chooses, in bytes of UTF-8. An upload path
// and file name within their own limits always fit MaxKeyBytes together
// (768 + 1 + 255 = 1,024); the key limit is checked anyway, so that it
// holds whatever the other two become.
const (
	// MaxNameBytes bounds a file name (one path segment).
	MaxNameBytes = 255
	// MaxPathBytes bounds an upload path (the directory part of a key).
	MaxPathBytes = 768
	// MaxKeyBytes bounds path + "/" + name: S3's limit on an object key.
	MaxKeyBytes = 1024
	// MaxOriginalNameBytes bounds the file name the client's file part
	// declares, which the server records; a longer one is refused, not
	// truncated.
	MaxOriginalNameBytes = 1024
)

// The check functions below are the server's rules for the names clients
// choose. Each returns nil or an error whose text is a reason to show the
// client after the field's name ("Invalid uploadPath: " + reason). They
// are pure and look at no more than their limit of bytes before refusing
// a string, so a hostile name costs little to reject.

// checkPath reports whether p is acceptable as an upload path: at most
// MaxPathBytes, valid UTF-8 without rejected characters (see rejectedRune),
// relative and slash-separated, with no empty, "." or ".." segment and no
// backslash.
func checkPath(p string) error {
	if p == "" {
		return errors.New("must not be empty")
	}
	if err := checkLen(p, MaxPathBytes); err != nil {
		return err
	}
	if err := checkChars(p); err != nil {
		return err
	}
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return errors.New("must not start or end with a slash")
	}
	if strings.ContainsRune(p, '\\') {
		return errors.New("must not contain a backslash (the separator is /)")
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return errors.New("must not contain an empty segment (//)")
		case ".", "..":
			return errors.New(`must not contain a "." or ".." segment`)
		}
	}
	return nil
}

// checkName reports whether n is acceptable as a file name: at most
// MaxNameBytes, valid UTF-8 without rejected characters, one path segment
// (no slash or backslash), and not "." or "..".
func checkName(n string) error {
	if n == "" {
		return errors.New("must not be empty")
	}
	if err := checkLen(n, MaxNameBytes); err != nil {
		return err
	}
	if err := checkChars(n); err != nil {
		return err
	}
	if strings.ContainsAny(n, `/\`) {
		return errors.New("must be a file name, not a path (no slash or backslash)")
	}
	if n == "." || n == ".." {
		return errors.New(`must not be "." or ".."`)
	}
	return nil
}

// checkKey reports whether path + "/" + name fits MaxKeyBytes.
func checkKey(path, name string) error {
	if n := len(path) + 1 + len(name); n > MaxKeyBytes {
		return fmt.Errorf("is %d bytes long; the limit is %d bytes (S3's key limit)", n, MaxKeyBytes)
	}
	return nil
}

// checkOriginalName reports whether n, the file name a file part declares,
// may be recorded: empty (none declared), or at most MaxOriginalNameBytes
// of valid UTF-8 without rejected characters. It is informational, so it
// may hold any other character, slashes included.
func checkOriginalName(n string) error {
	if n == "" {
		return nil
	}
	if err := checkLen(n, MaxOriginalNameBytes); err != nil {
		return err
	}
	return checkChars(n)
}

// checkLen refuses s when it is longer than max bytes.
func checkLen(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("is %d bytes long; the limit is %d bytes", len(s), max)
	}
	return nil
}

// checkChars refuses invalid UTF-8 and rejected characters, naming the
// first one and its byte offset.
func checkChars(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("is not valid UTF-8 (at byte %d)", i)
			}
		}
		if rejectedRune(r) {
			return fmt.Errorf("must not contain the control or invisible character %U (at byte %d)", r, i)
		}
	}
	return nil
}

// rejectedRune reports whether r may not appear in a client-chosen name:
// characters that are invisible or change how the text around them is
// displayed, so that a name can look like another. These are the
// categories Cc (controls) and Cf (format: the bidirectional controls
// U+202A–U+202E, U+2066–U+2069, U+200E, U+200F and U+061C, the zero-width
// U+200B–U+200D, U+2060–U+2064 and U+FEFF, the soft hyphen U+00AD, U+180E,
// tag characters...), the line and paragraph separators (Zl, Zp), the
// other default-ignorable code points (the Hangul fillers U+115F, U+1160,
// U+3164 and U+FFA0, the combining grapheme joiner U+034F...) and the
// replacement character U+FFFD, the mark of a decoding error.
func rejectedRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	return r == utf8.RuneError ||
		unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point)
}
