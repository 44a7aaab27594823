package specnorm

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Change is one difference between two versions of a spec.
type Change struct {
	Where    string // e.g. "POST /api/x response 200 data.fileSize"
	What     string
	Breaking bool
}

// Compare loads two specs and lists what changed for clients: removed
// operations, responses and properties, new required request fields, and
// changed types or formats are breaking; additions are not.
func Compare(oldSpec, newSpec []byte) ([]Change, error) {
	load := func(b []byte) (*openapi3.T, error) {
		l := openapi3.NewLoader()
		t, err := l.LoadFromData(b)
		if err != nil {
			return nil, err
		}
		return t, t.Validate(context.Background())
	}
	o, err := load(oldSpec)
	if err != nil {
		return nil, fmt.Errorf("previous spec: %w", err)
	}
	n, err := load(newSpec)
	if err != nil {
		return nil, fmt.Errorf("new spec: %w", err)
	}
	var c []Change
	add := func(where, what string, breaking bool) {
		c = append(c, Change{Where: where, What: what, Breaking: breaking})
	}
	for _, p := range sortedKeys(o.Paths.Map()) {
		ops := o.Paths.Find(p).Operations()
		for _, method := range sortedKeys(ops) {
			var nop *openapi3.Operation
			if item := n.Paths.Find(p); item != nil {
				nop = item.GetOperation(method)
			}
			if nop == nil {
				add(method+" "+p, "operation removed", true)
				continue
			}
			compareOperation(method+" "+p, ops[method], nop, add)
		}
	}
	for _, p := range sortedKeys(n.Paths.Map()) {
		ops := n.Paths.Find(p).Operations()
		for _, method := range sortedKeys(ops) {
			if item := o.Paths.Find(p); item == nil || item.GetOperation(method) == nil {
				add(method+" "+p, "operation added (responses "+strings.Join(sortedKeys(ops[method].Responses.Map()), ", ")+")", false)
			}
		}
	}
	return c, nil
}

// compareOperation compares the request bodies and responses of one
// operation present in both specs.
func compareOperation(where string, oop, nop *openapi3.Operation, add func(string, string, bool)) {
	if oop.RequestBody != nil && nop.RequestBody != nil {
		for _, mt := range sortedKeys(oop.RequestBody.Value.Content) {
			om, nm := oop.RequestBody.Value.Content[mt], nop.RequestBody.Value.Content[mt]
			if nm == nil {
				add(where+" request "+mt, "media type removed", true)
				continue
			}
			compareSchema(where+" request", om.Schema, nm.Schema, true, add, 0)
		}
	}
	for _, code := range sortedKeys(oop.Responses.Map()) {
		or, nr := oop.Responses.Value(code), nop.Responses.Value(code)
		if nr == nil {
			add(where+" response "+code, "response removed", true)
			continue
		}
		for _, mt := range sortedKeys(or.Value.Content) {
			nm := nr.Value.Content[mt]
			if nm == nil {
				add(where+" response "+code+" "+mt, "media type removed", true)
				continue
			}
			compareSchema(where+" response "+code, or.Value.Content[mt].Schema, nm.Schema, false, add, 0)
		}
	}
	for _, code := range sortedKeys(nop.Responses.Map()) {
		if oop.Responses.Value(code) == nil {
			add(where+" response "+code, "response added", false)
		}
	}
}

// compareSchema compares two schemas; request says which direction of
// change breaks clients (new required fields break requests, removed
// fields break responses).
func compareSchema(where string, o, n *openapi3.SchemaRef, request bool, add func(string, string, bool), depth int) {
	if o == nil || n == nil || o.Value == nil || n.Value == nil || depth > 8 {
		return
	}
	ov, nv := o.Value, n.Value
	if ot, nt := typeOf(ov), typeOf(nv); ot != nt {
		add(where, fmt.Sprintf("type changed from %s to %s", ot, nt), true)
		return
	}
	if ov.Format != nv.Format {
		add(where, fmt.Sprintf("format changed from %q to %q", ov.Format, nv.Format), true)
	}
	for _, name := range sortedKeys(ov.Properties) {
		child := where + " " + name
		np, ok := nv.Properties[name]
		if !ok {
			add(child, "field removed", true)
			continue
		}
		compareSchema(child, ov.Properties[name], np, request, add, depth+1)
	}
	for _, name := range sortedKeys(nv.Properties) {
		if _, ok := ov.Properties[name]; !ok {
			add(where+" "+name, "field added", request && slices.Contains(nv.Required, name))
		}
	}
	for _, name := range nv.Required {
		if !slices.Contains(ov.Required, name) {
			if _, existed := ov.Properties[name]; existed {
				add(where+" "+name, "field became required", request)
			}
		}
	}
	for _, name := range ov.Required {
		if !slices.Contains(nv.Required, name) {
			if _, still := nv.Properties[name]; still {
				add(where+" "+name, "field became optional", !request)
			}
		}
	}
	compareSchema(where+"[]", ov.Items, nv.Items, request, add, depth+1)
}

func typeOf(s *openapi3.Schema) string {
	if s.Type == nil {
		return "any"
	}
	return strings.Join(s.Type.Slice(), "|")
}

// Report prints changes and returns how many are breaking.
func Report(w io.Writer, spec string, changes []Change) int {
	if len(changes) == 0 {
		fmt.Fprintf(w, "specnorm: %s: no change visible to clients\n", spec)
		return 0
	}
	breaking := 0
	fmt.Fprintf(w, "specnorm: %s changed:\n", spec)
	for _, c := range changes {
		mark := "  "
		if c.Breaking {
			mark = "! "
			breaking++
		}
		fmt.Fprintf(w, "%s%s: %s\n", mark, c.Where, c.What)
	}
	if breaking > 0 {
		fmt.Fprintf(w, "  (%d breaking, marked !)\n", breaking)
	}
	return breaking
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
