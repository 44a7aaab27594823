package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// kiePages are kie's pages in the order generate.go merges them.
var kiePages = []string{"upstream.md", "upstream-base64.md", "upstream-url.md"}

// copyVendor copies kie's pages, overlay and committed spec to dir, with
// every page edited by edit (a vendor change to the shared FileUploadResult
// shows on each of its pages), and returns the flags that build the spec
// there.
func copyVendor(t *testing.T, dir string, edit func(string) string) (args []string, out string) {
	t.Helper()
	src := filepath.Join("..", "..", "api", "kie")
	for _, f := range append(slices.Clone(kiePages), "overlay.yaml", "openapi.yaml") {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(kiePages, f) && edit != nil {
			edited := edit(string(b))
			if edited == string(b) {
				t.Fatalf("the edit changed nothing in %s", f)
			}
			b = []byte(edited)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range kiePages {
		args = append(args, "-in", filepath.Join(dir, p))
	}
	out = filepath.Join(dir, "openapi.yaml")
	return append(args, "-overlay", filepath.Join(dir, "overlay.yaml"), "-out", out), out
}

// addField adds an optional field to the vendor's FileUploadResult.
func addField(s string) string {
	return strings.Replace(s, "      required:\n        - fileName\n        - filePath", "        checksum:\n          type: string\n          description: SHA-256 of the file\n      required:\n        - fileName\n        - filePath", 1)
}

// removeField removes mimeType from the vendor's FileUploadResult.
func removeField(s string) string {
	s = strings.Replace(s, "        mimeType:\n          type: string\n          description: File MIME type\n          example: image/png\n", "", 1)
	return strings.Replace(s, "        - mimeType\n", "", 1)
}

func TestUnchangedPageLeavesSpecAlone(t *testing.T) {
	dir := t.TempDir()
	args, out := copyVendor(t, dir, nil)
	before, _ := os.ReadFile(out)
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	after, _ := os.ReadFile(out)
	if !bytes.Equal(before, after) || stdout.Len() != 0 {
		t.Errorf("spec rewritten or report printed for an unchanged page: %s", stdout.String())
	}
}

// A vendor change goes through normalise -> generate -> build: a new
// optional field is accepted and appears in the generated Go type; a
// removed field is refused unless accepted.
func TestVendorChangeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs oapi-codegen and go build")
	}
	t.Run("new optional field", func(t *testing.T) {
		dir := t.TempDir()
		args, out := copyVendor(t, dir, addField)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "checksum: field added") || strings.Contains(stdout.String(), "breaking") {
			t.Errorf("report:\n%s", stdout.String())
		}
		generateAndBuild(t, out, "Checksum *string")
	})
	t.Run("field removed", func(t *testing.T) {
		dir := t.TempDir()
		args, out := copyVendor(t, dir, removeField)
		before, _ := os.ReadFile(out)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 1 {
			t.Fatalf("exit %d, want 1 for a breaking change: %s %s", code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "! POST /api/file-stream-upload response 200 data mimeType: field removed") {
			t.Errorf("report:\n%s", stdout.String())
		}
		if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
			t.Error("a refused breaking change was written")
		}
		stdout.Reset()
		if code := run(append(args, "-accept-breaking"), &stdout, &stderr); code != 0 {
			t.Fatalf("-accept-breaking: exit %d: %s", code, stderr.String())
		}
		generateAndBuild(t, out, "FileSize int64")
	})
}

// generateAndBuild runs the pinned oapi-codegen on spec into a package
// inside the module and compiles it; want must appear in the code.
func generateAndBuild(t *testing.T, spec, want string) {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	pkgDir, err := os.MkdirTemp(filepath.Join(root, "cmd", "specnorm"), "testgen")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pkgDir) })
	cfg := filepath.Join(pkgDir, "cfg.yaml")
	gen := filepath.Join(pkgDir, "api.gen.go")
	os.WriteFile(cfg, []byte("package: testgen\noutput: "+gen+"\ngenerate:\n  models: true\n  client: true\n  std-http-server: true\n  strict-server: true\n  embedded-spec: true\n"), 0o644)
	cmd := exec.Command("go", "run", "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen", "-config", cfg, spec)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	code, _ := os.ReadFile(gen)
	if !strings.Contains(string(code), want) {
		t.Errorf("generated code lacks %q", want)
	}
	build := exec.Command("go", "build", "./"+filepath.Base(pkgDir))
	build.Dir = filepath.Join(root, "cmd", "specnorm")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no flags: exit %d", code)
	}
	if code := run([]string{"-in", "nope.md", "-out", filepath.Join(t.TempDir(), "x.yaml")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing input: exit %d", code)
	}
}

// The pages of one vendor merge into one spec; pages that clash are
// refused with both files named, and -v lists documentation that differs.
func TestSeveralPages(t *testing.T) {
	dir := t.TempDir()
	args, out := copyVendor(t, dir, nil)
	var stdout, stderr bytes.Buffer
	if code := run(append(args, "-v"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "specnorm: documentation differs: /components/securitySchemes/BearerAuth: upstream.md's documentation kept, upstream-url.md's differs at /components/securitySchemes/BearerAuth/bearerFormat") {
		t.Errorf("-v output:\n%s", stdout.String())
	}

	// The same page under two names defines POST /api/file-url-upload twice;
	// a page whose FileUploadResult.fileSize has another format clashes with
	// the stream page's (given first, it meets that page first).
	page, err := os.ReadFile(filepath.Join(dir, "upstream-url.md"))
	if err != nil {
		t.Fatal(err)
	}
	again, clash := filepath.Join(dir, "again.md"), filepath.Join(dir, "clash.md")
	int32Size := strings.Replace(string(page), "          description: File size in bytes\n          example: 154832", "          description: File size in bytes\n          format: int32", 1)
	for name, content := range map[string]string{again: string(page), clash: int32Size} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(out)
	for extra, want := range map[string][]string{
		again: {"POST /api/file-url-upload", "upstream-url.md#/paths/~1api~1file-url-upload/post", "again.md#/paths/~1api~1file-url-upload/post"},
		clash: {"upstream.md#/components/schemas/FileUploadResult", "clash.md#/components/schemas/FileUploadResult", "/properties/fileSize/format"},
	} {
		stdout.Reset()
		stderr.Reset()
		in := append([]string{"-in", extra}, args...)
		if extra == again {
			in = append(slices.Clone(args), "-in", extra)
		}
		if code := run(in, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", filepath.Base(extra), code)
		}
		for _, w := range want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: error does not name %q: %s", filepath.Base(extra), w, stderr.String())
			}
		}
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("a refused merge wrote the spec")
	}
}
