package server

import (
	"net/http"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/gen/kie"
)

// kieRoutes implements kie.ServerInterface, the generated net/http
// interface of the kie.ai API.
type kieRoutes struct{ s *Server }

var _ kie.ServerInterface = kieRoutes{}

var (
	kieStream = uploadOp{rules: &kieRules, scope: "kie.stream", receive: (*Server).streamUpload, respond: (*Server).respondKie}
	kieBase64 = uploadOp{rules: &kieRules, scope: "kie.base64", receive: (*Server).base64Upload, respond: (*Server).respondKie}
	kieURL    = uploadOp{rules: &kieRules, scope: "kie.url", receive: (*Server).urlUpload, respond: (*Server).respondKie}
)

// UploadFileStream stores the file at uploadPath/fileName; the same name
// uploaded again replaces the old file atomically, keeping its URL.
func (k kieRoutes) UploadFileStream(w http.ResponseWriter, r *http.Request) {
	k.s.serveUpload(w, r, kieStream)
}

// UploadFileBase64 stores a file sent as Base64 (or a data URL) in JSON,
// decoded as it arrives.
func (k kieRoutes) UploadFileBase64(w http.ResponseWriter, r *http.Request) {
	k.s.serveUpload(w, r, kieBase64)
}

// UploadFileUrl stores a file the server downloads from fileUrl.
func (k kieRoutes) UploadFileUrl(w http.ResponseWriter, r *http.Request) {
	k.s.serveUpload(w, r, kieURL)
}

// respondKie writes kie's success envelope for a stored file.
func (s *Server) respondKie(w http.ResponseWriter, r *http.Request, f catalog.File) {
	writeJSON(w, kie.FileUploadResponse{
		Success: true,
		Code:    kie.StatusOK,
		Msg:     "File uploaded successfully",
		Data:    s.kieResult(r, f),
	})
}

func (s *Server) kieResult(r *http.Request, f catalog.File) kie.FileUploadResult {
	return kie.FileUploadResult{
		FileName:    f.Name,
		FilePath:    f.Path + "/" + f.Name,
		DownloadUrl: s.fileURL(r, f),
		FileSize:    f.Size,
		MimeType:    f.ContentType,
		UploadedAt:  utc(f.Created),
	}
}
