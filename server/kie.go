package server

import (
	"context"
	"net/http"

	"github.com/fileup/fileup/gen/kie"
)

// kieAPI implements kie.StrictServerInterface.
type kieAPI struct{ s *Server }

var kieRules = apiRules{
	api:          "kie",
	canonical:    map[string]string{"uploadPath": fieldPath, "fileName": fieldName},
	pathRequired: true,
	pathLabel:    "uploadPath",
	nameLabel:    "fileName",
	defaultName: func(id, original, contentType string) string {
		return id + extensionFor(original, contentType)
	},
}

var _ kie.StrictServerInterface = kieAPI{}

// UploadFileStream stores the file at uploadPath/fileName; the same name
// uploaded again replaces the old file atomically.
func (k kieAPI) UploadFileStream(ctx context.Context, req kie.UploadFileStreamRequestObject) (kie.UploadFileStreamResponseObject, error) {
	res, aerr := k.s.upload(ctx, &kieRules, tenantFrom(ctx), req.Body, requestFrom(ctx))
	if aerr != nil {
		k.s.metrics.upload("kie", aerr.Status, 0)
		return kieError(aerr), nil
	}
	k.s.metrics.upload("kie", http.StatusOK, res.meta.Size)
	return kie.UploadFileStream200JSONResponse{
		Success: true,
		Code:    kie.StatusOK,
		Msg:     "File uploaded successfully",
		Data: kie.FileUploadResult{
			FileName:    res.name,
			FilePath:    res.path + "/" + res.name,
			DownloadUrl: res.url,
			FileSize:    res.meta.Size,
			MimeType:    res.meta.ContentType,
			UploadedAt:  res.uploaded.UTC(),
		},
	}, nil
}

// kieError maps an error to the spec's response object for its status.
func kieError(e *apiError) kie.UploadFileStreamResponseObject {
	body := kie.ApiResponse{Success: false, Code: kie.StatusCode(e.Status), Msg: e.Msg}
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestTimeout:
		// 408 (stalled upload) is reported as a request error: the spec has
		// no 408 and the client is usually gone.
		body.Code = kie.StatusBadRequest
		return kie.UploadFileStream400JSONResponse(body)
	case http.StatusUnauthorized:
		return kie.UploadFileStream401JSONResponse(body)
	case http.StatusForbidden:
		return kie.UploadFileStream403JSONResponse(body)
	case http.StatusMethodNotAllowed:
		return kie.UploadFileStream405JSONResponse(body)
	case http.StatusRequestEntityTooLarge:
		return kie.UploadFileStream413JSONResponse(body)
	default:
		body.Code = kie.StatusServerError
		return kie.UploadFileStream500JSONResponse(body)
	}
}
