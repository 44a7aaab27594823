//go:build tools

// This file pins the code generator in go.mod so that `go generate ./...`
// always runs the same oapi-codegen version. It is never compiled into fileup.
package fileup

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
