package specnorm

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// excerptFence matches the OpenAPI excerpt a vendor documentation page
// embeds: ````yaml <file> <method> <path> ... ````.
var excerptFence = regexp.MustCompile("(?s)````ya?ml[^\n]*\n(.*?)\n````")

var titleLine = regexp.MustCompile(`(?m)^# (.+)$`)

// FromPage converts a vendor documentation page into an OpenAPI 3.0.3
// document tree. The page's ````yaml block is either the excerpt form
// (paths: {path, method, request, response}) or a complete OpenAPI 3.0 or
// 3.1 document, as FromOpenAPI accepts.
func FromPage(page []byte) (*yaml.Node, error) {
	m := excerptFence.FindSubmatch(page)
	if m == nil {
		return nil, errors.New("specnorm: no ````yaml OpenAPI block in the page")
	}
	root, err := parseYAML(m[1])
	if err != nil {
		return nil, fmt.Errorf("specnorm: the page's YAML block: %w", err)
	}
	if get(root, "openapi") != nil {
		return fromDocument(root)
	}
	title := "API"
	if t := titleLine.FindSubmatch(page); t != nil {
		title = strings.TrimSpace(string(t[1]))
	}
	return fromExcerpt(root, title)
}

// fromExcerpt converts the excerpt form: paths: {path, method, servers,
// request: {security, parameters, body}, response}, components.
func fromExcerpt(root *yaml.Node, title string) (*yaml.Node, error) {
	p := get(root, "paths")
	route, method, err := excerptRoute(p)
	if err != nil {
		return nil, err
	}
	schemas, err := excerptSchemas(root)
	if err != nil {
		return nil, err
	}
	schemes, security, err := excerptSecurity(p)
	if err != nil {
		return nil, err
	}
	op := mapping()
	if body := path(p, "request", "body"); body != nil {
		rb, err := excerptBody(body, schemas)
		if err != nil {
			return nil, err
		}
		set(op, "requestBody", rb)
	}
	responses, err := excerptResponses(path(p, "response"), schemas)
	if err != nil {
		return nil, err
	}
	set(op, "responses", responses)

	comps := mapping()
	if len(schemes.Content) > 0 {
		set(comps, "securitySchemes", schemes)
	}
	if len(schemas.Content) > 0 {
		set(comps, "schemas", schemas)
	}
	out := mapping(
		"openapi", "3.0.3",
		"info", mapping("title", title, "version", "1.0.0"),
		"servers", serversOf(get(p, "servers")),
	)
	if len(security.Content) > 0 {
		set(out, "security", security)
	}
	set(out, "paths", mapping(route, mapping(method, op)))
	set(out, "components", comps)
	return out, nil
}

// excerptRoute checks the excerpt's paths object and returns its path and
// method.
func excerptRoute(p *yaml.Node) (route, method string, err error) {
	if p == nil {
		return "", "", errors.New("specnorm: excerpt has no paths")
	}
	route, method = scalar(get(p, "path")), strings.ToLower(scalar(get(p, "method")))
	if route == "" || method == "" {
		return "", "", fmt.Errorf("specnorm: %s: path and method are required", pointer("paths"))
	}
	for _, k := range keys(p) {
		switch k {
		case "path", "method", "servers", "request", "response", "deprecated", "type":
		default:
			return "", "", fmt.Errorf("specnorm: %s: unknown excerpt field", pointer("paths", k))
		}
	}
	if params := path(p, "request", "parameters"); params != nil {
		for _, in := range keys(params) {
			if len(get(params, in).Content) > 0 {
				return "", "", fmt.Errorf("specnorm: %s: parameters are not supported yet", pointer("paths", "request", "parameters", in))
			}
		}
	}
	return route, method, nil
}

// excerptSchemas converts components.schemas.
func excerptSchemas(root *yaml.Node) (*yaml.Node, error) {
	schemas := mapping()
	cs := path(root, "components", "schemas")
	if cs == nil {
		return schemas, nil
	}
	for _, name := range keys(cs) {
		s, err := schema(get(cs, name), pointer("components", "schemas", name), schemas)
		if err != nil {
			return nil, err
		}
		set(schemas, name, s)
	}
	return schemas, nil
}

// excerptSecurity converts request.security[] {title,
// parameters.header.Authorization} into security schemes and the
// operation's security requirement.
func excerptSecurity(p *yaml.Node) (schemes, security *yaml.Node, err error) {
	schemes, security = mapping(), seq()
	sec := path(p, "request", "security")
	if sec == nil {
		return schemes, security, nil
	}
	for i, s := range sec.Content {
		name := scalar(get(s, "title"))
		auth := path(s, "parameters", "header", "Authorization")
		if name == "" || auth == nil {
			return nil, nil, fmt.Errorf("specnorm: %s: only header Authorization schemes are supported", pointer("paths", "request", "security", fmt.Sprint(i)))
		}
		set(schemes, name, mapping("type", get(auth, "type"), "scheme", get(auth, "scheme"), "description", get(auth, "description")))
		security.Content = append(security.Content, mapping(name, seq()))
	}
	return schemes, security, nil
}

// excerptBody converts request.body into a requestBody object.
func excerptBody(body, schemas *yaml.Node) (*yaml.Node, error) {
	content := mapping()
	required := false
	for _, mt := range keys(body) {
		media, req, err := media(get(body, mt), pointer("paths", "request", "body", mt), schemas)
		if err != nil {
			return nil, err
		}
		required = required || req
		set(content, mt, media)
	}
	return mapping("required", required, "content", content), nil
}

// excerptResponses converts response: {code: {media type: ...}}.
func excerptResponses(resp, schemas *yaml.Node) (*yaml.Node, error) {
	responses := mapping()
	if resp == nil {
		return responses, nil
	}
	for _, code := range keys(resp) {
		r := get(resp, code)
		content := mapping()
		desc := get(r, "description")
		for _, mt := range keys(r) {
			if mt == "description" {
				continue
			}
			mn := get(r, mt)
			// The excerpt puts the response's description inside its
			// media type.
			if d := get(mn, "description"); d != nil && desc == nil {
				desc = d
			}
			media, _, err := media(mn, pointer("paths", "response", code, mt), schemas)
			if err != nil {
				return nil, err
			}
			set(content, mt, media)
		}
		if desc == nil {
			desc = str("Response " + code)
		}
		set(responses, code, mapping("description", desc, "content", content))
	}
	return responses, nil
}

func serversOf(n *yaml.Node) *yaml.Node {
	out := seq()
	if n != nil {
		for _, s := range n.Content {
			out.Content = append(out.Content, mapping("url", get(s, "url"), "description", get(s, "description")))
		}
	}
	return out
}

// media converts {schemaArray: [...], examples} into a media type object;
// it reports whether the schema said the body is required.
func media(n *yaml.Node, at string, schemas *yaml.Node) (*yaml.Node, bool, error) {
	out := mapping()
	required := false
	arr := get(n, "schemaArray")
	switch {
	case arr == nil:
	case len(arr.Content) != 1:
		return nil, false, fmt.Errorf("specnorm: %s: schemaArray with %d schemas is not supported", at+"/schemaArray", len(arr.Content))
	default:
		s := arr.Content[0]
		if r := get(s, "required"); r != nil && r.Kind == yaml.ScalarNode {
			required = r.Value == "true"
		}
		conv, err := schema(s, at+"/schemaArray/0", schemas)
		if err != nil {
			return nil, false, err
		}
		if ref := scalar(get(s, "refIdentifier")); ref != "" {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			if name == ref {
				return nil, false, fmt.Errorf("specnorm: %s: refIdentifier %q is not a components/schemas reference", at, ref)
			}
			if get(schemas, name) == nil {
				set(schemas, name, conv)
			}
			conv = mapping("$ref", ref)
		}
		set(out, "schema", conv)
	}
	if ex := get(n, "examples"); ex != nil {
		set(out, "examples", ex)
	}
	for _, k := range keys(n) {
		if k != "schemaArray" && k != "examples" && k != "description" {
			return nil, false, fmt.Errorf("specnorm: %s: unknown media field", at+"/"+k)
		}
	}
	return out, required, nil
}

// schema converts an excerpt schema: single-element allOf wrappers are
// unwrapped, requiredProperties becomes required, and the excerpt's
// body-level required flag and refIdentifier are dropped.
func schema(n *yaml.Node, at string, schemas *yaml.Node) (*yaml.Node, error) {
	if n == nil || n.Kind != yaml.MappingNode {
		return n, nil
	}
	if all := get(n, "allOf"); all != nil && len(all.Content) == 1 && len(n.Content) == 2 {
		return schema(all.Content[0], at+"/allOf/0", schemas)
	}
	out := mapping()
	for _, k := range keys(n) {
		v := get(n, k)
		switch k {
		case "refIdentifier":
		case "required":
			if v.Kind == yaml.SequenceNode {
				set(out, "required", v)
			}
		case "requiredProperties":
			set(out, "required", v)
		case "properties":
			props := mapping()
			for _, name := range keys(v) {
				s, err := schema(get(v, name), at+pointer("properties", name), schemas)
				if err != nil {
					return nil, err
				}
				set(props, name, s)
			}
			set(out, "properties", props)
		case "items", "additionalProperties", "not":
			s, err := schema(v, at+"/"+k, schemas)
			if err != nil {
				return nil, err
			}
			set(out, k, s)
		case "allOf", "anyOf", "oneOf":
			list := seq()
			for i, item := range v.Content {
				s, err := schema(item, fmt.Sprintf("%s/%s/%d", at, k, i), schemas)
				if err != nil {
					return nil, err
				}
				list.Content = append(list.Content, s)
			}
			set(out, k, list)
		default:
			set(out, k, v)
		}
	}
	return out, nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Render encodes a document tree as YAML with a header comment.
func Render(root *yaml.Node, header string) ([]byte, error) {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
