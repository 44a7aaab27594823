package server

// This file is a placeholder: the specs gained the vendors' Base64 and URL
// uploads, evolink's quota and evolink's download route, so the generated
// strict server interfaces gained methods that kieAPI and evolinkAPI must
// have to compile. Each answers 500 with the envelope "Not implemented yet".
// The server's maintainer replaces this whole file with the real handlers
// in the same merge that brings in the new specs; nothing else in server/
// depends on it.

import (
	"context"
	"net/http"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// notImplemented is the message of every placeholder's 500 envelope.
const notImplemented = "Not implemented yet"

// UploadFileBase64 is a placeholder: it answers 500 "Not implemented yet".
func (kieAPI) UploadFileBase64(context.Context, kie.UploadFileBase64RequestObject) (kie.UploadFileBase64ResponseObject, error) {
	return kie.UploadFileBase64500JSONResponse{Success: false, Code: kie.StatusServerError, Msg: notImplemented}, nil
}

// UploadFileUrl is a placeholder: it answers 500 "Not implemented yet".
func (kieAPI) UploadFileUrl(context.Context, kie.UploadFileUrlRequestObject) (kie.UploadFileUrlResponseObject, error) {
	return kie.UploadFileUrl500JSONResponse{Success: false, Code: kie.StatusServerError, Msg: notImplemented}, nil
}

// UploadFileBase64 is a placeholder: it answers 500 "Not implemented yet".
func (evolinkAPI) UploadFileBase64(context.Context, evolink.UploadFileBase64RequestObject) (evolink.UploadFileBase64ResponseObject, error) {
	return evolink.UploadFileBase64500JSONResponse{Success: false, Code: http.StatusInternalServerError, Msg: notImplemented}, nil
}

// UploadFileUrl is a placeholder: it answers 500 "Not implemented yet".
func (evolinkAPI) UploadFileUrl(context.Context, evolink.UploadFileUrlRequestObject) (evolink.UploadFileUrlResponseObject, error) {
	return evolink.UploadFileUrl500JSONResponse{Success: false, Code: http.StatusInternalServerError, Msg: notImplemented}, nil
}

// GetFilesQuota is a placeholder: it answers 500 "Not implemented yet".
func (evolinkAPI) GetFilesQuota(context.Context, evolink.GetFilesQuotaRequestObject) (evolink.GetFilesQuotaResponseObject, error) {
	return evolink.GetFilesQuota500JSONResponse{Success: false, Code: http.StatusInternalServerError, Msg: notImplemented}, nil
}

// DownloadFile is a placeholder: it answers 500 "Not implemented yet".
func (evolinkAPI) DownloadFile(context.Context, evolink.DownloadFileRequestObject) (evolink.DownloadFileResponseObject, error) {
	return evolink.DownloadFile500JSONResponse{Success: false, Code: http.StatusInternalServerError, Msg: notImplemented}, nil
}
