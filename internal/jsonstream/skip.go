package jsonstream

// skipValue checks and skips the current field's value, whatever its
// kind, in constant memory: one bit per open container.
func (r *Reader) skipValue() error {
	var arrays uint64 // bit d: the container at nesting d is an array
	depth := 0        // containers open inside the value
	for {
		if err := r.skipSpace(false); err != nil {
			return err
		}
		switch c := r.buf[r.r]; c {
		case '{', '[':
			if depth+1 >= MaxDepth { // the top-level object is one level
				return &Error{Offset: r.offset(), Err: ErrTooDeep, Detail: "value nested too deep"}
			}
			r.r++
			arrays = arrays&^(1<<depth) | b2u(c == '[')<<depth
			depth++
			closed, err := r.openContainer(c == '[')
			if err != nil {
				return err
			}
			if !closed {
				continue // a value follows
			}
			depth--
		default:
			if err := r.skipScalar(c); err != nil {
				return err
			}
		}
		// A value ended: close containers until one continues.
		for {
			if depth == 0 {
				return nil
			}
			more, err := r.afterElement(arrays&(1<<(depth-1)) != 0)
			if err != nil {
				return err
			}
			if more {
				break
			}
			depth--
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// openContainer follows an opening brace or bracket: it consumes the
// closing one of an empty container (closed), or an object's first name
// and colon.
func (r *Reader) openContainer(array bool) (closed bool, err error) {
	if err := r.skipSpace(false); err != nil {
		return false, err
	}
	if c := r.buf[r.r]; c == '}' && !array || c == ']' && array {
		r.r++
		return true, nil
	}
	if !array {
		return false, r.skipName()
	}
	return false, nil
}

// afterElement follows a value inside a container: it consumes a comma
// (and an object's next name and colon) and reports more, or consumes the
// container's closing brace or bracket.
func (r *Reader) afterElement(array bool) (more bool, err error) {
	if err := r.skipSpace(false); err != nil {
		return false, err
	}
	switch c := r.buf[r.r]; {
	case c == ',':
		r.r++
		if !array {
			return true, r.skipName()
		}
		return true, nil
	case c == '}' && !array || c == ']' && array:
		r.r++
		return false, nil
	}
	return false, r.syntax("expected a comma or the end of a container")
}

// skipName skips an object member's name and colon.
func (r *Reader) skipName() error {
	if err := r.expect('"', "expected a name"); err != nil {
		return err
	}
	if err := r.scanString(nil); err != nil {
		return err
	}
	return r.expect(':', "expected a colon after the name")
}

// skipScalar skips a string, number, true, false or null starting with c.
func (r *Reader) skipScalar(c byte) error {
	switch {
	case c == '"':
		r.r++
		return r.scanString(nil)
	case c == '-' || '0' <= c && c <= '9':
		return r.skipNumber()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	}
	return r.syntax("expected a value")
}

// literal consumes the word lit.
func (r *Reader) literal(lit string) error {
	for i := range len(lit) {
		c, err := r.peek()
		if err != nil {
			return err
		}
		if c != lit[i] {
			return r.syntax("invalid literal")
		}
		r.r++
	}
	return nil
}

// skipNumber consumes a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// What follows it is the caller's to check.
func (r *Reader) skipNumber() error {
	if err := r.optional("-"); err != nil {
		return err
	}
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c == '0' {
		r.r++
	} else if err := r.digits(); err != nil {
		return err
	}
	for _, part := range []struct{ lead, sign string }{{".", ""}, {"eE", "+-"}} {
		c, err := r.peek()
		if err != nil {
			return err
		}
		if !isOneOf(c, part.lead) {
			continue
		}
		r.r++
		if err := r.optional(part.sign); err != nil {
			return err
		}
		if err := r.digits(); err != nil {
			return err
		}
	}
	return nil
}

// optional consumes one byte of set, if the next byte is one.
func (r *Reader) optional(set string) error {
	if set == "" {
		return nil
	}
	c, err := r.peek()
	if err == nil && isOneOf(c, set) {
		r.r++
	}
	return err
}

// digits consumes one or more decimal digits.
func (r *Reader) digits() error {
	for n := 0; ; n++ {
		c, err := r.peek()
		if err != nil {
			return err
		}
		if c < '0' || c > '9' {
			if n == 0 {
				return r.syntax("expected a digit")
			}
			return nil
		}
		r.r++
	}
}

func isOneOf(c byte, set string) bool {
	for i := range len(set) {
		if set[i] == c {
			return true
		}
	}
	return false
}
