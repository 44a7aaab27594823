// Package fileup is the root of the fileup module: typed Go clients, server
// interfaces and a reference server for the kie.ai and evolink.ai
// "File Stream Upload" APIs.
//
// The module is organised as:
//
//   - api/: the vendor pages, the project's overlays, and the OpenAPI 3.0.3
//     specs cmd/specnorm generates from them (api/NORMALISATION.md lists
//     every deviation from the vendor pages);
//   - gen/kie, gen/evolink: code generated from api/ by `go generate ./...`:
//     models, clients, net/http and strict server interfaces, embedded specs;
//   - wrapper/: streaming multipart bodies, auth, typed errors, retries and
//     progress over the generated clients;
//   - server/ and storage/: the reference server and its storage backends;
//   - cmd/fileup: the fileup command (upload, serve, bench);
//   - cmd/specnorm, internal/specnorm: the spec normaliser go generate runs.
//
// This package itself only carries the go:generate directives.
package fileup
