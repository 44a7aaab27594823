package specnorm

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Small helpers over yaml.v3 nodes: the normaliser builds and edits node
// trees so that key order, and therefore the output, is deterministic.

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		v := toNode(kv[i+1])
		if v == nil {
			continue
		}
		n.Content = append(n.Content, str(kv[i].(string)), v)
	}
	return n
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func toNode(v any) *yaml.Node {
	switch v := v.(type) {
	case nil:
		return nil
	case *yaml.Node:
		return v
	case string:
		return str(v)
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}
	default:
		panic(fmt.Sprintf("specnorm: unsupported value %T", v))
	}
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// path follows keys through nested mappings.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

// set replaces or appends key in a mapping node.
func set(n *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, str(key), v)
}

// del removes key from a mapping node.
func del(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
}

// keys lists a mapping's keys in order.
func keys(n *yaml.Node) []string {
	var out []string
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

// maxNodes bounds the size of a document after its aliases are expanded,
// so that a page of nested aliases fails with an error instead of
// exhausting memory.
const maxNodes = 1 << 18

// parseYAML decodes one YAML document and returns its root with every
// alias expanded.
func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	x := expander{budget: maxNodes, active: map[*yaml.Node]bool{}}
	return x.deref(doc.Content[0])
}

// expander expands aliases: each copied node costs one from budget, and
// active holds the anchored nodes being expanded, to refuse an alias
// inside its own anchor (which YAML allows).
type expander struct {
	budget int
	active map[*yaml.Node]bool
}

// deref resolves YAML aliases (anchors) into copies, so the output has
// none and each place can be edited on its own.
func (x *expander) deref(n *yaml.Node) (*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if x.budget--; x.budget < 0 {
		return nil, fmt.Errorf("more than %d nodes once aliases are expanded", maxNodes)
	}
	if n.Kind == yaml.AliasNode {
		if x.active[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s is inside its own anchor", n.Line, n.Value)
		}
		x.active[n.Alias] = true
		defer delete(x.active, n.Alias)
		return x.deref(n.Alias)
	}
	if n.Anchor != "" {
		x.active[n] = true
		defer delete(x.active, n)
	}
	c := *n
	c.Anchor = ""
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Content = nil
	for _, child := range n.Content {
		d, err := x.deref(child)
		if err != nil {
			return nil, err
		}
		c.Content = append(c.Content, d)
	}
	if c.Kind == yaml.ScalarNode {
		c.Style = 0
		if c.Tag == "" || c.Tag == "!" {
			c.Tag = "!!str"
		}
	}
	return &c, nil
}

// pointer renders a JSON pointer for error messages.
func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/")
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}
