package specnorm

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FromOpenAPI reads a plain OpenAPI document (JSON or YAML). A 3.0
// document passes through; a 3.1 document has its 3.1-only constructs
// mapped to 3.0 equivalents:
//
//	type: [T, "null"]          -> type: T, nullable: true
//	const: v                   -> enum: [v]
//	examples: [a, ...] (schema) -> example: a
//	contentMediaType (string)  -> format: binary (contentEncoding base64 -> byte)
//	exclusiveMinimum: n        -> minimum: n, exclusiveMinimum: true (same for maximum)
//
// Anything else that 3.0 cannot express is an error naming its location.
func FromOpenAPI(data []byte) (*yaml.Node, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("specnorm: %w", err)
	}
	return fromDocument(root)
}

// fromDocument converts a decoded OpenAPI 3.0 or 3.1 document in place.
func fromDocument(root *yaml.Node) (*yaml.Node, error) {
	version := scalar(get(root, "openapi"))
	switch {
	case strings.HasPrefix(version, "3.0."):
		set(root, "openapi", str("3.0.3"))
		return root, nil
	case strings.HasPrefix(version, "3.1."):
	default:
		return nil, fmt.Errorf("specnorm: /openapi: unsupported version %q (want 3.0.x or 3.1.x)", version)
	}
	for _, k := range []string{"webhooks", "jsonSchemaDialect"} {
		if get(root, k) != nil {
			return nil, fmt.Errorf("specnorm: %s: not expressible in OpenAPI 3.0", pointer(k))
		}
	}
	if get(path(root, "info", "license"), "identifier") != nil {
		return nil, fmt.Errorf("specnorm: %s: not expressible in OpenAPI 3.0", pointer("info", "license", "identifier"))
	}
	set(root, "openapi", str("3.0.3"))
	if err := walk(root, "", false); err != nil {
		return nil, err
	}
	return root, nil
}

// schemaKeys hold schemas (or maps/lists of them) wherever they appear.
var schemaChildren = map[string]string{
	"schema": "one", "items": "one", "additionalProperties": "one", "not": "one",
	"properties": "map", "allOf": "list", "anyOf": "list", "oneOf": "list",
}

// unmappable are JSON Schema 2020-12 keywords with no 3.0 equivalent.
var unmappable = []string{"prefixItems", "if", "then", "else", "dependentSchemas", "dependentRequired",
	"unevaluatedProperties", "unevaluatedItems", "patternProperties", "contains", "minContains", "maxContains",
	"$dynamicRef", "$dynamicAnchor", "$defs", "propertyNames"}

// walk visits the document; isSchema marks n as a schema object.
func walk(n *yaml.Node, at string, isSchema bool) error {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := walk(c, fmt.Sprintf("%s/%d", at, i), false); err != nil {
				return err
			}
		}
		return nil
	case yaml.MappingNode:
	default:
		return nil
	}
	if isSchema {
		if err := convertSchema(n, at); err != nil {
			return err
		}
	}
	for _, k := range keys(n) {
		v := get(n, k)
		child := at + pointer(k)
		switch {
		case isSchema && schemaChildren[k] == "one", !isSchema && k == "schema":
			if err := walk(v, child, true); err != nil {
				return err
			}
		case isSchema && schemaChildren[k] == "map", at == "/components" && k == "schemas":
			for _, name := range keys(v) {
				if err := walk(get(v, name), child+pointer(name), true); err != nil {
					return err
				}
			}
		case isSchema && schemaChildren[k] == "list":
			for i, c := range v.Content {
				if err := walk(c, fmt.Sprintf("%s/%d", child, i), true); err != nil {
					return err
				}
			}
		case !isSchema:
			if err := walk(v, child, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// convertSchema maps one 3.1 schema object to 3.0 in place.
func convertSchema(n *yaml.Node, at string) error {
	for _, k := range unmappable {
		if get(n, k) != nil {
			return fmt.Errorf("specnorm: %s: %q has no OpenAPI 3.0 equivalent", at+pointer(k), k)
		}
	}
	for _, convert := range []func(*yaml.Node, string) error{convertType, convertConst, convertExamples, convertContent, convertExclusive} {
		if err := convert(n, at); err != nil {
			return err
		}
	}
	return nil
}

// convertType maps a type list of one type and null to type + nullable.
func convertType(n *yaml.Node, at string) error {
	t := get(n, "type")
	if t == nil || t.Kind != yaml.SequenceNode {
		return nil
	}
	var types []string
	nullable := false
	for _, c := range t.Content {
		if c.Value == "null" {
			nullable = true
		} else {
			types = append(types, c.Value)
		}
	}
	if len(types) != 1 {
		return fmt.Errorf("specnorm: %s: type %v cannot be expressed in OpenAPI 3.0 (one type, optionally with null)", at+"/type", append(types, map[bool]string{true: "null"}[nullable]))
	}
	set(n, "type", str(types[0]))
	if nullable {
		set(n, "nullable", toNode(true))
	}
	return nil
}

// convertConst maps const to a one-value enum.
func convertConst(n *yaml.Node, at string) error {
	c := get(n, "const")
	if c == nil {
		return nil
	}
	if get(n, "enum") != nil {
		return fmt.Errorf("specnorm: %s: both const and enum", at)
	}
	set(n, "enum", seq(c))
	del(n, "const")
	return nil
}

// convertExamples maps a schema's examples list to its first example.
func convertExamples(n *yaml.Node, at string) error {
	ex := get(n, "examples")
	if ex == nil {
		return nil
	}
	if ex.Kind != yaml.SequenceNode {
		return fmt.Errorf("specnorm: %s: schema examples must be a list", at+"/examples")
	}
	if len(ex.Content) > 0 && get(n, "example") == nil {
		set(n, "example", ex.Content[0])
	}
	del(n, "examples")
	return nil
}

// convertContent maps contentMediaType/contentEncoding to a string format
// (binary, or byte for base64).
func convertContent(n *yaml.Node, at string) error {
	if get(n, "contentMediaType") == nil && get(n, "contentEncoding") == nil {
		return nil
	}
	format := "binary"
	if enc := scalar(get(n, "contentEncoding")); enc != "" {
		if enc != "base64" {
			return fmt.Errorf("specnorm: %s: contentEncoding %q has no OpenAPI 3.0 format", at+"/contentEncoding", enc)
		}
		format = "byte"
	}
	if get(n, "type") == nil {
		set(n, "type", str("string"))
	}
	if f := scalar(get(n, "format")); f != "" && f != format {
		return fmt.Errorf("specnorm: %s: format %q conflicts with contentMediaType", at+"/format", f)
	}
	set(n, "format", str(format))
	del(n, "contentMediaType")
	del(n, "contentEncoding")
	return nil
}

// convertExclusive maps numeric exclusiveMinimum/Maximum to minimum/maximum
// with the boolean form.
func convertExclusive(n *yaml.Node, at string) error {
	for _, b := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		v := get(n, b[0])
		if v == nil || v.Tag == "!!bool" {
			continue
		}
		if get(n, b[1]) != nil {
			return fmt.Errorf("specnorm: %s: both %s and a numeric %s", at, b[1], b[0])
		}
		set(n, b[1], v)
		set(n, b[0], toNode(true))
	}
	return nil
}
