package specnorm

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Input is one normalised page to merge, named for error messages.
type Input struct {
	Name string     // e.g. "upstream-url.md"
	Doc  *yaml.Node // from Normalise
}

// A Divergence is a definition that two inputs give with the same meaning
// but different documentation (descriptions, examples, summaries, titles,
// bearerFormat). Merge keeps the first input's text and reports the rest.
type Divergence struct {
	Pointer string // the definition, e.g. /components/schemas/FileData
	Kept    string // the input whose text is in the merged document
	Other   string // the input whose text was dropped
	At      string // the first differing place inside the definition
}

// String describes the divergence in one line, as specnorm -v prints it.
func (d Divergence) String() string {
	return fmt.Sprintf("%s: %s's documentation kept, %s's differs at %s", d.Pointer, d.Kept, d.Other, d.At)
}

// Merge combines several normalised pages of one API into one document:
//
//   - paths are unioned; the same method on the same path in two inputs is
//     an error naming both;
//   - components are unioned section by section; a name defined by several
//     inputs must mean the same thing in each: identical definitions are
//     kept once, definitions that differ only in documentation keep the
//     first input's text (reported as Divergences), and any other
//     difference is an error naming the JSON pointer in both inputs;
//   - servers, security and other top-level fields follow the same rule;
//     tags are unioned by name; info is the first input's (the overlay
//     restates it).
//
// The inputs' trees are reused, not copied.
func Merge(inputs []Input) (*yaml.Node, []Divergence, error) {
	if len(inputs) == 0 {
		return nil, nil, errors.New("specnorm: nothing to merge")
	}
	m := &merger{out: mapping(), origin: map[string]string{}}
	for _, in := range inputs {
		if in.Doc == nil || in.Doc.Kind != yaml.MappingNode {
			return nil, nil, fmt.Errorf("specnorm: %s: not an OpenAPI document", in.Name)
		}
		if err := m.add(in); err != nil {
			return nil, nil, err
		}
	}
	return m.out, m.divergences, nil
}

// merger accumulates the merged document; origin remembers which input
// first defined each JSON pointer that can clash.
type merger struct {
	out         *yaml.Node
	origin      map[string]string
	divergences []Divergence
}

func (m *merger) add(in Input) error {
	for _, key := range keys(in.Doc) {
		v := get(in.Doc, key)
		var err error
		switch key {
		case "openapi", "info":
			if get(m.out, key) == nil {
				set(m.out, key, v)
			}
		case "paths":
			err = m.paths(in.Name, v)
		case "components":
			err = m.components(in.Name, v)
		case "tags":
			err = m.tags(in.Name, v)
		default:
			err = m.define(in.Name, m.out, key, pointer(key), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// define adds name: v to the mapping into, or checks it against the
// definition already there.
func (m *merger) define(input string, into *yaml.Node, name, ptr string, v *yaml.Node) error {
	prev := get(into, name)
	if prev == nil {
		set(into, name, v)
		m.origin[ptr] = input
		return nil
	}
	semantic, doc := diff(prev, v, "", false)
	switch {
	case semantic != "":
		return fmt.Errorf("specnorm: %s#%s and %s#%s define it differently (first difference at %s#%s)",
			m.origin[ptr], ptr, input, ptr, input, ptr+semantic)
	case doc != "":
		m.divergences = append(m.divergences, Divergence{Pointer: ptr, Kept: m.origin[ptr], Other: input, At: ptr + doc})
	}
	return nil
}

func (m *merger) paths(input string, paths *yaml.Node) error {
	out := get(m.out, "paths")
	if out == nil {
		out = mapping()
		set(m.out, "paths", out)
	}
	for _, p := range keys(paths) {
		item := get(paths, p)
		have := get(out, p)
		if have == nil {
			set(out, p, item)
			for _, k := range keys(item) {
				m.origin[pointer("paths", p, k)] = input
			}
			continue
		}
		for _, k := range keys(item) {
			ptr := pointer("paths", p, k)
			if httpMethods[k] && get(have, k) != nil {
				return fmt.Errorf("specnorm: %s %s is defined by both %s#%s and %s#%s",
					strings.ToUpper(k), p, m.origin[ptr], ptr, input, ptr)
			}
			if err := m.define(input, have, k, ptr, get(item, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

func (m *merger) components(input string, comps *yaml.Node) error {
	out := get(m.out, "components")
	if out == nil {
		out = mapping()
		set(m.out, "components", out)
	}
	for _, section := range keys(comps) {
		defs := get(comps, section)
		if strings.HasPrefix(section, "x-") || defs.Kind != yaml.MappingNode {
			if err := m.define(input, out, section, pointer("components", section), defs); err != nil {
				return err
			}
			continue
		}
		have := get(out, section)
		if have == nil {
			have = mapping()
			set(out, section, have)
		}
		for _, name := range keys(defs) {
			if err := m.define(input, have, name, pointer("components", section, name), get(defs, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// tags unions the tag lists by name.
func (m *merger) tags(input string, tags *yaml.Node) error {
	if tags.Kind != yaml.SequenceNode {
		return fmt.Errorf("specnorm: %s#/tags: not a list", input)
	}
	out := get(m.out, "tags")
	if out == nil {
		out = seq()
		set(m.out, "tags", out)
	}
	for _, t := range tags.Content {
		name := scalar(get(t, "name"))
		ptr := pointer("tags", name)
		var prev *yaml.Node
		for _, have := range out.Content {
			if scalar(get(have, "name")) == name {
				prev = have
			}
		}
		if prev == nil {
			out.Content = append(out.Content, t)
			m.origin[ptr] = input
			continue
		}
		if _, doc := diff(prev, t, "", false); doc != "" {
			m.divergences = append(m.divergences, Divergence{Pointer: ptr, Kept: m.origin[ptr], Other: input, At: ptr + doc})
		}
	}
	return nil
}
