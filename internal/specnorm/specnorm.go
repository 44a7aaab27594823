// Package specnorm turns a vendor's published API description into the
// normalised OpenAPI 3.0.3 document fileup generates code from, and
// compares two versions of a spec for breaking changes.
//
// Vendor pages embed an excerpt form of OpenAPI (paths/path/method,
// schemaArray, single-element allOf wrappers, requiredProperties,
// refIdentifier, YAML anchors); FromPage restates it as plain OpenAPI.
// FromOpenAPI accepts a full OpenAPI 3.0 or 3.1 document and maps 3.1-only
// constructs to 3.0. The project's deliberate deviations are applied
// afterwards from an OpenAPI Overlay (ApplyOverlay), so the committed spec
// is always generated, never hand-edited. cmd/specnorm wires it together.
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
