package specnorm

import (
	"bytes"
	"fmt"

	"github.com/speakeasy-api/openapi/overlay"
	"gopkg.in/yaml.v3"
)

// ApplyOverlay applies an OpenAPI Overlay document to root, strictly:
// every action's target must match something, so an overlay that no
// longer fits the vendor's spec fails loudly instead of silently doing
// nothing.
func ApplyOverlay(root *yaml.Node, overlayYAML []byte) error {
	o, err := overlay.ParseReader(bytes.NewReader(overlayYAML))
	if err != nil {
		return fmt.Errorf("specnorm: overlay: %w", err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("specnorm: overlay: %w", err)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	warnings, err := o.ApplyToStrict(doc)
	if err != nil {
		return fmt.Errorf("specnorm: overlay: %w", err)
	}
	if len(warnings) > 0 {
		return fmt.Errorf("specnorm: overlay: %v", warnings)
	}
	return nil
}
