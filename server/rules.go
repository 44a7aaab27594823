package server

import (
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// apiRules is what differs between the two vendor APIs when naming and
// accepting an uploaded file.
type apiRules struct {
	api string
	// pathField and nameField name the fields in messages; urlField and
	// dataField are the URL and Base64 uploads' required fields.
	pathField, nameField, urlField, dataField string
	// pathRequired: the request must carry a path (kie's uploadPath).
	pathRequired bool
	// accept vets the detected content type; nil accepts anything.
	accept func(contentType string) *apiError
	// defaultPath is used when no path is sent (pathRequired false).
	defaultPath func(contentType string) string
	// defaultName is used when no name is sent.
	defaultName func(id, original, contentType string) string
}

var kieRules = apiRules{
	api:          "kie",
	pathField:    "uploadPath",
	nameField:    "fileName",
	urlField:     "fileUrl",
	dataField:    "base64Data",
	pathRequired: true,
	defaultName: func(id, original, contentType string) string {
		return id + extensionFor(original, contentType)
	},
}

// evolinkTypes are the only file types evolink accepts, identified from
// the file's bytes.
var evolinkTypes = map[string]string{
	"image/jpeg": "jpeg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

var evolinkRules = apiRules{
	api:       "evolink",
	pathField: "upload_path",
	nameField: "file_name",
	urlField:  "file_url",
	dataField: "base64_data",
	accept: func(ct string) *apiError {
		mt, _, _ := strings.Cut(ct, ";")
		if _, ok := evolinkTypes[mt]; !ok {
			return errorf(http.StatusBadRequest, fmt.Sprintf("Unsupported file type %s: only image/jpeg, image/png, image/gif and image/webp are accepted", mt))
		}
		return nil
	},
	// Without a path, files are categorised by type: images/png, ...
	defaultPath: func(ct string) string { return "images/" + evolinkTypes[ct] },
	defaultName: func(id, original, ct string) string {
		return id + extensionFor("", ct)
	},
}

// place returns the upload path and file name of a file from the values
// the client sent (has* false when the field was absent), applying the
// API's defaults and the server's rules for names.
func (r *apiRules) place(dir string, hasDir bool, name string, hasName bool, id, original, contentType string) (string, string, *apiError) {
	if !hasDir || dir == "" {
		if r.pathRequired {
			return "", "", errorf(http.StatusBadRequest, "Missing required parameter: "+r.pathField)
		}
		dir = r.defaultPath(contentType)
	}
	if !hasName || name == "" {
		name = r.defaultName(id, original, contentType)
	}
	if aerr := checkPlace(dir, name, r.pathField, r.nameField); aerr != nil {
		return "", "", aerr
	}
	return dir, name, nil
}

var safeExt = regexp.MustCompile(`^\.[A-Za-z0-9]{1,10}$`)

// extensionFor picks a file extension for a generated name: the client's
// own extension when it is plain, else one for the detected type.
func extensionFor(original, contentType string) string {
	if ext := path.Ext(original); safeExt.MatchString(ext) {
		return strings.ToLower(ext)
	}
	mt, _, _ := strings.Cut(contentType, ";")
	switch mt {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	case "application/zip":
		return ".zip"
	}
	return ".bin"
}
