package jsonstream

import (
	"errors"
	"io"
)

// errNoValue: String or Base64 called when no value is next.
var errNoValue = errors.New("jsonstream: no field value to read (call Next first)")

// Next returns the name of the next field. The previous field's value, if
// the caller did not read all of it, is skipped (and checked). After the
// object's closing brace Next checks that only white space follows, and
// returns io.EOF.
func (r *Reader) Next() (string, error) {
	if r.err != nil {
		return "", r.err
	}
	r.gen++
	name, err := r.next()
	if err != nil && err != io.EOF {
		return "", r.stop(err)
	}
	return name, err
}

func (r *Reader) next() (string, error) {
	var err error
	switch r.state {
	case stateStart:
		err = r.expect('{', "the document is not a JSON object")
		r.state = stateFirst
	case stateValue:
		err = r.skipValue()
	case stateString:
		err = r.scanString(nil)
	case stateDone:
		return "", io.EOF
	}
	if err != nil {
		return "", err
	}
	if err := r.skipSpace(false); err != nil {
		return "", err
	}
	switch c := r.buf[r.r]; {
	case c == '}':
		return "", r.end()
	case r.state == stateFirst:
	case c == ',':
		r.r++
	default:
		return "", r.syntax("expected a comma or the end of the object")
	}
	name, err := r.name()
	if err != nil {
		return "", err
	}
	r.state = stateValue
	return name, nil
}

// name reads a field name and its colon.
func (r *Reader) name() (string, error) {
	if err := r.expect('"', "expected a field name"); err != nil {
		return "", err
	}
	name, err := r.readString(r.maxName)
	if err != nil {
		return "", err
	}
	return name, r.expect(':', "expected a colon after the field name")
}

// end consumes the closing brace and checks that only white space
// follows. It returns io.EOF.
func (r *Reader) end() error {
	r.r++
	if err := r.skipSpace(true); err != nil {
		return err
	}
	if r.r < r.w {
		return r.syntax("data after the JSON object")
	}
	r.state = stateDone
	return io.EOF
}

// String returns the current field's value, which must be a string of at
// most max bytes once decoded: a longer one is [ErrTooLong], another kind
// of value [ErrNotString], and both leave the Reader usable (Next skips
// the rest).
func (r *Reader) String(max int) (string, error) {
	if err := r.openString(); err != nil {
		return "", err
	}
	s, err := r.readString(max)
	if err != nil && !errors.Is(err, ErrTooLong) {
		return "", r.stop(err)
	}
	return s, err
}

// openString consumes the opening quote of the current field's value.
func (r *Reader) openString() error {
	if r.err != nil {
		return r.err
	}
	if r.state != stateValue {
		return errNoValue
	}
	if err := r.skipSpace(false); err != nil {
		return r.stop(err)
	}
	if r.buf[r.r] != '"' {
		return &Error{Offset: r.offset(), Err: ErrNotString, Detail: "the value is not a string"}
	}
	r.r++
	r.state = stateString
	return nil
}

// readString reads the rest of a string whose opening quote is consumed,
// decoded, and returns it if it is at most max bytes long. A string found
// too long before its end is left partly read.
func (r *Reader) readString(max int) (string, error) {
	start := r.offset()
	tooLong := &Error{Offset: start, Err: ErrTooLong, Detail: "string longer than the limit"}
	r.scratch = r.scratch[:0]
	err := r.scanString(func(b []byte) error {
		if len(r.scratch)+len(b) > max {
			return tooLong
		}
		r.scratch = append(r.scratch, b...)
		return nil
	})
	if err != nil {
		return "", err
	}
	s := toValidUTF8(r.scratch)
	if cap(r.scratch) > 64<<10 {
		r.scratch = nil // a long String's buffer is not kept
	}
	if len(s) > max {
		return "", tooLong
	}
	return s, nil
}
