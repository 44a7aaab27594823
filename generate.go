package fileup

// Regenerate api/ and gen/ with `go generate ./...` (or `make generate`):
// first cmd/specnorm merges each vendor's pages (api/<vendor>/upstream*.md,
// one per operation the vendor documents) into one document, applies the
// project's overlay (api/<vendor>/overlay.yaml) and writes the normalised
// spec api/<vendor>/openapi.yaml, reporting breaking changes; then
// oapi-codegen, pinned in go.mod through tools.go, generates gen/<vendor>.
// One spec per vendor gives one Go package per vendor: gen/kie holds every
// kie operation, and shared types (FileUploadResponse, ...) exist once.

//go:generate go run ./cmd/specnorm -in api/kie/upstream.md -in api/kie/upstream-base64.md -in api/kie/upstream-url.md -overlay api/kie/overlay.yaml -out api/kie/openapi.yaml
//go:generate go run ./cmd/specnorm -in api/evolink/upstream.md -in api/evolink/upstream-base64.md -in api/evolink/upstream-url.md -in api/evolink/upstream-quota.md -overlay api/evolink/overlay.yaml -out api/evolink/openapi.yaml

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/kie/oapi-codegen.yaml api/kie/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/evolink/oapi-codegen.yaml api/evolink/openapi.yaml
