package fileup

// Regenerate gen/ from api/ with `go generate ./...` (or `make generate`).
// The generator version is pinned in go.mod through tools.go.

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/kie/oapi-codegen.yaml api/kie/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/evolink/oapi-codegen.yaml api/evolink/openapi.yaml
