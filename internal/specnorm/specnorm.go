// Package specnorm turns a vendor's published API description into the
// normalised OpenAPI 3.0.3 document fileup generates code from, and
// compares two versions of a spec for breaking changes.
//
// A vendor publishes one page per operation. Some pages embed an excerpt
// form of OpenAPI (paths/path/method, schemaArray, single-element allOf
// wrappers, requiredProperties, refIdentifier, YAML anchors), which
// FromPage restates as plain OpenAPI; others embed a complete OpenAPI 3.0
// or 3.1 document, which FromPage (like FromOpenAPI for a plain document)
// maps to 3.0. Merge combines a vendor's pages into one document. The
// project's deliberate deviations are applied afterwards from an OpenAPI
// Overlay (ApplyOverlay), so the committed spec is always generated, never
// hand-edited. Build runs the whole pipeline; cmd/specnorm wraps it and
// reports changes with Compare.
package specnorm

import (
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Normalise reads a vendor page (name ending in .md) or an OpenAPI
// document and returns the OpenAPI 3.0.3 tree.
func Normalise(name string, src []byte) (*yaml.Node, error) {
	if strings.EqualFold(filepath.Ext(name), ".md") {
		return FromPage(src)
	}
	return FromOpenAPI(src)
}
