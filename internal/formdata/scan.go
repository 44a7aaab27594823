package formdata

import (
	"bytes"
	"fmt"
	"io"
)

// lineKind is what a line that starts with "--" boundary turned out to be.
type lineKind int

const (
	lineMore  lineKind = iota // the window ends before the line can be judged
	lineDelim                 // a delimiter line: a part follows
	lineFinal                 // the final boundary line: the body ends
	lineOther                 // not a boundary line
)

// boundaryLine judges the line at the start of win, which starts with
// "--" boundary (or is shorter and a prefix of it). For a delimiter or
// final line it also returns the line's length, line end included.
//
// As in mime/multipart, a delimiter line is "--" boundary, optional
// spaces and tabs, and the body's line end; a final line puts "--" after
// the boundary and may instead end the input. In the preamble, a
// delimiter line ending in a bare LF switches the body to LF line ends.
// A line cut short by the end of the input is io.ErrUnexpectedEOF.
func (mr *Reader) boundaryLine(win []byte, preamble bool) (lineKind, int, error) {
	i := len(mr.dash())
	final := false
	switch {
	case len(win) < i || len(win) == i+1 && win[i] == '-':
		return mr.lineCut(win)
	case len(win) >= i+2 && win[i] == '-' && win[i+1] == '-':
		final, i = true, i+2
	}
	i += lwspLen(win[i:])
	nl, rest := mr.delim[:mr.nl], win[i:]
	kind, n := lineOther, 0
	switch {
	case bytes.HasPrefix(rest, nl):
		kind, n = lineDelim, i+len(nl)
	case preamble && !final && len(rest) > 0 && rest[0] == '\n':
		mr.delim, mr.nl = mr.delim[1:], 1
		kind, n = lineDelim, i+1
	case final && len(rest) == 0 && mr.eof:
		kind, n = lineFinal, i
	case bytes.HasPrefix(nl, rest):
		return mr.lineCut(win)
	}
	if n > maxBoundaryLine {
		return 0, 0, fmt.Errorf("%w: boundary line longer than %d bytes", ErrMalformed, maxBoundaryLine)
	}
	if kind == lineDelim && final {
		kind = lineFinal
	}
	return kind, n, nil
}

// lineCut is the verdict on a boundary line that the window ends inside:
// more input is needed, unless there is none or the line is too long.
func (mr *Reader) lineCut(win []byte) (lineKind, int, error) {
	if mr.eof {
		return 0, 0, io.ErrUnexpectedEOF
	}
	if len(win) >= maxBoundaryLine {
		return 0, 0, fmt.Errorf("%w: boundary line longer than %d bytes", ErrMalformed, maxBoundaryLine)
	}
	return lineMore, 0, nil
}

// verdict is whether a match of the delimiter ends the part's data.
type verdict int

const (
	verdictNo      verdict = iota // data that happens to contain the delimiter
	verdictYes                    // the part's data ends here
	verdictUnknown                // more input is needed to tell
)

// follows judges a delimiter match that ends at win[i] by the bytes after
// it, as mime/multipart does: white space, a line end, "--" or the end of
// the input end the part (the line is then checked whole by
// boundaryLine); anything else makes the match part of the data.
func (mr *Reader) follows(win []byte, i int) verdict {
	if i >= len(win) {
		if mr.eof {
			return verdictYes
		}
		return verdictUnknown
	}
	switch win[i] {
	case ' ', '\t', '\r', '\n':
		return verdictYes
	case '-':
		switch {
		case i+1 < len(win):
			if win[i+1] == '-' {
				return verdictYes
			}
		case !mr.eof:
			return verdictUnknown
		}
	}
	return verdictNo
}

// scanBody finds where the current part's data ends in win. It returns
// how many leading bytes are data for certain and whether the part's
// boundary line starts right after them (found). skip is the length of
// the line end before the line's "--": 0 when the part is empty and its
// header block's blank line doubles as that line end, as mime/multipart
// allows.
func (mr *Reader) scanBody(win []byte, atStart bool) (n int, found bool, skip int) {
	if dash := mr.dash(); atStart && (bytes.HasPrefix(win, dash) || !mr.eof && bytes.HasPrefix(dash, win)) {
		switch mr.follows(win, len(dash)) {
		case verdictYes:
			return 0, true, 0
		case verdictUnknown:
			return 0, false, 0
		}
	}
	for off := 0; ; {
		j := bytes.Index(win[off:], mr.delim)
		if j < 0 {
			break
		}
		j += off
		switch mr.follows(win, j+len(mr.delim)) {
		case verdictYes:
			return j, true, mr.nl
		case verdictUnknown:
			return j, false, 0
		}
		off = j + 1
	}
	return holdBack(win, mr.delim), false, 0
}

// holdBack returns how much of win, which holds no delimiter, is data for
// certain: all of it but a tail that could begin a delimiter. The line
// end starts the delimiter and the boundary holds no line end, so only
// the last line end byte can start such a tail.
func holdBack(win, delim []byte) int {
	start := max(0, len(win)-len(delim)+1)
	if k := bytes.LastIndexByte(win[start:], delim[0]); k >= 0 && bytes.HasPrefix(delim, win[start+k:]) {
		return start + k
	}
	return len(win)
}

// lwspLen is the length of the spaces and tabs b starts with.
func lwspLen(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// hasPrefixOrIsPrefix reports whether b starts with prefix or is a
// shorter beginning of it.
func hasPrefixOrIsPrefix(b, prefix []byte) bool {
	return bytes.HasPrefix(b, prefix) || bytes.HasPrefix(prefix, b)
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }
