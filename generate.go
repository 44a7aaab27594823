package fileup

// Regenerate api/ and gen/ with `go generate ./...` (or `make generate`):
// first cmd/specnorm turns each vendor page (api/<vendor>/upstream.md) plus
// the project's overlay (api/<vendor>/overlay.yaml) into the normalised spec
// api/<vendor>/openapi.yaml, reporting breaking changes; then oapi-codegen,
// pinned in go.mod through tools.go, generates gen/<vendor>.

//go:generate go run ./cmd/specnorm -in api/kie/upstream.md -overlay api/kie/overlay.yaml -out api/kie/openapi.yaml
//go:generate go run ./cmd/specnorm -in api/evolink/upstream.md -overlay api/evolink/overlay.yaml -out api/evolink/openapi.yaml

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/kie/oapi-codegen.yaml api/kie/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/evolink/oapi-codegen.yaml api/evolink/openapi.yaml
