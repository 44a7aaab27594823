// Command specnorm normalises a vendor's published API description into
// the OpenAPI 3.0.3 spec that oapi-codegen reads, applies fileup's own
// documented adjustments, and reports what changed since the previous
// spec. go generate runs it before oapi-codegen, once per vendor:
//
//	specnorm -in api/kie/upstream.md -in api/kie/upstream-url.md -overlay api/kie/overlay.yaml -out api/kie/openapi.yaml
//
// Each -in (repeatable; one per vendor page) is a vendor documentation page
// (markdown whose ````yaml block is the excerpt form or a complete OpenAPI
// document) or a plain OpenAPI 3.0/3.1 document (JSON or YAML). The pages
// are merged, in order, into one spec (see specnorm.Merge); -v lists the
// definitions whose documentation differed between pages. Breaking changes
// (removed operations, responses or fields, new required fields, changed
// types) stop it with exit status 1 and leave -out untouched, unless
// -accept-breaking or FILEUP_ACCEPT_BREAKING=1.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fileup/fileup/internal/specnorm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specnorm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in inputs
	fs.Var(&in, "in", "vendor page (.md) or OpenAPI 3.0/3.1 document (required; repeat for each page)")
	overlayPath := fs.String("overlay", "", "OpenAPI Overlay with the project's adjustments")
	out := fs.String("out", "", "normalised spec to write (required)")
	verbose := fs.Bool("v", false, "list definitions whose documentation differs between pages (the first page's is kept)")
	accept := fs.Bool("accept-breaking", os.Getenv("FILEUP_ACCEPT_BREAKING") == "1", "write the spec even if it breaks clients (env FILEUP_ACCEPT_BREAKING=1)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(in) == 0 || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "specnorm: -in and -out are required")
		fs.Usage()
		return 2
	}
	spec, divergences, err := build(in, *overlayPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *verbose {
		for _, d := range divergences {
			fmt.Fprintln(stdout, "specnorm: documentation differs:", d)
		}
	}
	old, err := os.ReadFile(*out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(stderr, "specnorm:", err)
		return 1
	}
	if bytes.Equal(old, spec) {
		return 0
	}
	if old != nil {
		changes, err := specnorm.Compare(old, spec)
		if err != nil {
			fmt.Fprintln(stderr, "specnorm: comparing with the previous spec:", err)
			return 1
		}
		breaking := specnorm.Report(stdout, *out, changes)
		if breaking > 0 && !*accept {
			fmt.Fprintf(stderr, "specnorm: %d breaking change(s) in %s; not written. Re-run with -accept-breaking (or FILEUP_ACCEPT_BREAKING=1) to accept them.\n", breaking, *out)
			return 1
		}
	}
	if err := os.WriteFile(*out, spec, 0o644); err != nil {
		fmt.Fprintln(stderr, "specnorm:", err)
		return 1
	}
	return 0
}

// inputs collects the repeated -in flag.
type inputs []string

func (i *inputs) String() string { return strings.Join(*i, ",") }

func (i *inputs) Set(v string) error {
	*i = append(*i, v)
	return nil
}

// build reads the pages and the overlay and runs specnorm.Build.
func build(in []string, overlayPath string) ([]byte, []specnorm.Divergence, error) {
	pages := make([]specnorm.Source, 0, len(in))
	for _, name := range in {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("specnorm: %w", err)
		}
		pages = append(pages, specnorm.Source{Name: name, Data: data})
	}
	var overlay *specnorm.Source
	if overlayPath != "" {
		data, err := os.ReadFile(overlayPath)
		if err != nil {
			return nil, nil, fmt.Errorf("specnorm: %w", err)
		}
		overlay = &specnorm.Source{Name: overlayPath, Data: data}
	}
	return specnorm.Build(pages, overlay)
}
