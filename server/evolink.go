package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/fileup/fileup/gen/evolink"
)

// evolinkAPI implements evolink.StrictServerInterface.
type evolinkAPI struct{ s *Server }

// evolinkTypes are the only file types evolink accepts, identified from
// the file's bytes.
var evolinkTypes = map[string]string{
	"image/jpeg": "jpeg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

var evolinkRules = apiRules{
	api: "evolink",
	canonical: map[string]string{
		"upload_path": fieldPath, "uploadPath": fieldPath,
		"file_name": fieldName, "fileName": fieldName,
	},
	pathLabel: "upload_path",
	nameLabel: "file_name",
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

var _ evolink.StrictServerInterface = evolinkAPI{}

// UploadFileStream stores one image and returns its id, URLs and expiry.
func (e evolinkAPI) UploadFileStream(ctx context.Context, req evolink.UploadFileStreamRequestObject) (evolink.UploadFileStreamResponseObject, error) {
	res, aerr := e.s.upload(ctx, &evolinkRules, tenantFrom(ctx), req.Body, requestFrom(ctx))
	if aerr != nil {
		e.s.metrics.upload("evolink", aerr.Status, 0)
		return evolinkError(aerr), nil
	}
	e.s.metrics.upload("evolink", http.StatusOK, res.meta.Size)
	m := res.meta
	ok, code, msg := true, http.StatusOK, "File uploaded successfully"
	id := "file_" + m.ID
	original := m.OriginalName
	if original == "" {
		original = res.name
	}
	uploaded := res.uploaded.UTC()
	download := res.url + "?download=1"
	data := &evolink.FileData{
		FileId:       &id,
		FileName:     &res.name,
		OriginalName: &original,
		FileSize:     &m.Size,
		MimeType:     &m.ContentType,
		UploadPath:   &res.path,
		FileUrl:      &res.url,
		DownloadUrl:  &download,
		UploadTime:   &uploaded,
	}
	if !m.Expires.IsZero() {
		exp := m.Expires.UTC()
		data.ExpiresAt = &exp
	}
	return evolink.UploadFileStream200JSONResponse{Success: &ok, Code: &code, Msg: &msg, Data: data}, nil
}

func evolinkError(e *apiError) evolink.UploadFileStreamResponseObject {
	body := evolink.ErrorResponse{Success: false, Code: e.Status, Msg: e.Msg}
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestTimeout:
		body.Code = http.StatusBadRequest
		return evolink.UploadFileStream400JSONResponse(body)
	case http.StatusUnauthorized:
		return evolink.UploadFileStream401JSONResponse(body)
	case http.StatusForbidden:
		return evolink.UploadFileStream403JSONResponse(body)
	case http.StatusMethodNotAllowed:
		return evolink.UploadFileStream405JSONResponse(body)
	case http.StatusRequestEntityTooLarge:
		return evolink.UploadFileStream413JSONResponse(body)
	default:
		body.Code = http.StatusInternalServerError
		return evolink.UploadFileStream500JSONResponse(body)
	}
}
