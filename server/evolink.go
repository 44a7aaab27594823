package server

import (
	"net/http"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/gen/evolink"
)

// evolinkRoutes implements evolink.ServerInterface, the generated
// net/http interface of the evolink.ai API.
type evolinkRoutes struct{ s *Server }

var _ evolink.ServerInterface = evolinkRoutes{}

// evolinkIDPrefix starts evolink's file ids: file_<id>.
const evolinkIDPrefix = "file_"

var (
	evolinkStream = uploadOp{rules: &evolinkRules, scope: "evolink.stream", receive: (*Server).streamUpload, respond: (*Server).respondEvolink}
	evolinkBase64 = uploadOp{rules: &evolinkRules, scope: "evolink.base64", receive: (*Server).base64Upload, respond: (*Server).respondEvolink}
	evolinkURL    = uploadOp{rules: &evolinkRules, scope: "evolink.url", receive: (*Server).urlUpload, respond: (*Server).respondEvolink}
)

// UploadFileStream stores one image and returns its id, URLs and expiry.
func (e evolinkRoutes) UploadFileStream(w http.ResponseWriter, r *http.Request) {
	e.s.serveUpload(w, r, evolinkStream)
}

// UploadFileBase64 stores one image sent as Base64 (or a data URL) in
// JSON, decoded as it arrives.
func (e evolinkRoutes) UploadFileBase64(w http.ResponseWriter, r *http.Request) {
	e.s.serveUpload(w, r, evolinkBase64)
}

// UploadFileUrl stores one image the server downloads from file_url.
func (e evolinkRoutes) UploadFileUrl(w http.ResponseWriter, r *http.Request) {
	e.s.serveUpload(w, r, evolinkURL)
}

// respondEvolink writes evolink's success envelope for a stored file.
func (s *Server) respondEvolink(w http.ResponseWriter, r *http.Request, f catalog.File) {
	ok, code, msg := true, http.StatusOK, "File uploaded successfully"
	writeJSON(w, evolink.FileUploadResponse{Success: &ok, Code: &code, Msg: &msg, Data: s.evolinkData(r, f)})
}

func (s *Server) evolinkData(r *http.Request, f catalog.File) *evolink.FileData {
	id := evolinkIDPrefix + f.ID
	original := f.OriginalName
	if original == "" {
		original = f.Name
	}
	fileURL := s.fileURL(r, f)
	download := s.baseURL(r) + "/api/v1/files/download/" + id
	uploaded := utc(f.Created)
	d := &evolink.FileData{
		FileId:       &id,
		FileName:     &f.Name,
		OriginalName: &original,
		FileSize:     &f.Size,
		MimeType:     &f.ContentType,
		UploadPath:   &f.Path,
		FileUrl:      &fileURL,
		DownloadUrl:  &download,
		UploadTime:   &uploaded,
	}
	if !f.Expires.IsZero() {
		exp := utc(f.Expires)
		d.ExpiresAt = &exp
	}
	return d
}
