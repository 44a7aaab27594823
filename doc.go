// Package fileup is the root of the fileup module: typed Go clients, server
// interfaces and a reference server for the kie.ai and evolink.ai
// "File Stream Upload" APIs.
//
// The module is organised as:
//
//   - api/: the two vendor specs, normalised to OpenAPI 3.0.3
//     (api/NORMALISATION.md lists every deviation from the vendor pages);
//   - gen/kie, gen/evolink: code generated from api/ by `go generate ./...`:
//     models, clients, net/http and strict server interfaces, embedded specs;
//   - wrapper/: streaming multipart bodies, auth, typed errors, retries and
//     progress over the generated clients;
//   - server/ and storage/: the reference server and its storage backends;
//   - cmd/fileup: the fileup command (upload, serve, bench).
//
// This package itself only carries the go:generate directives.
package fileup
