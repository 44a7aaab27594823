package specnorm

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// docKeys are the OpenAPI keywords that only document: two definitions that
// differ in nothing else mean the same thing to a client or a generator.
var docKeys = map[string]bool{
	"description":  true,
	"summary":      true,
	"title":        true,
	"example":      true,
	"examples":     true,
	"externalDocs": true,
	"bearerFormat": true,
}

// nameMaps are the keywords whose value maps names (properties, media
// types, status codes, ...) to objects: their keys are never keywords.
var nameMaps = map[string]bool{
	"properties": true, "patternProperties": true, "content": true,
	"headers": true, "encoding": true, "links": true, "responses": true,
	"callbacks": true, "variables": true, "mapping": true, "schemas": true,
	"parameters": true, "securitySchemes": true, "requestBodies": true,
	"paths": true,
}

// diff compares two definitions. semantic is the relative JSON pointer of
// the first difference outside documentation ("" if none); doc is that of
// the first difference in documentation only. names says that a and b are
// maps of names rather than objects with keywords.
func diff(a, b *yaml.Node, at string, names bool) (semantic, doc string) {
	if a.Kind != b.Kind {
		return at, ""
	}
	switch a.Kind {
	case yaml.ScalarNode:
		if a.ShortTag() != b.ShortTag() || a.Value != b.Value {
			return at, ""
		}
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return at, ""
		}
		for i := range a.Content {
			s, d := diff(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i), false)
			if s != "" {
				return s, ""
			}
			doc = first(doc, d)
		}
	case yaml.MappingNode:
		return diffMaps(a, b, at, names)
	}
	return "", doc
}

func diffMaps(a, b *yaml.Node, at string, names bool) (semantic, doc string) {
	seen := map[string]bool{}
	for _, k := range append(keys(a), keys(b)...) {
		if seen[k] {
			continue
		}
		seen[k] = true
		child := at + pointer(k)
		av, bv := get(a, k), get(b, k)
		isDoc := !names && docKeys[k]
		if av == nil || bv == nil {
			if !isDoc {
				return child, ""
			}
			doc = first(doc, child)
			continue
		}
		s, d := diff(av, bv, child, !names && nameMaps[k])
		switch {
		case s != "" && isDoc:
			doc = first(doc, s)
		case s != "":
			return s, ""
		default:
			doc = first(doc, d)
		}
	}
	return "", doc
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
