package wrapper

import (
	"encoding/json"
	"errors"
	"path"
	"time"
)

// Result is a successful upload, the same shape for both vendors. A field
// the server did not send is absent: strings are empty, times are zero,
// Size is nil (a Size of 0 is an empty file). kie's spec requires all of
// its fields; every field of evolink's is optional, and evolink alone
// sends FileID, OriginalName, FileURL and ExpiresAt. In JSON, absent
// fields are omitted.
type Result struct {
	Vendor       Vendor `json:"vendor"`
	FileID       string `json:"file_id,omitempty"`
	FileName     string `json:"file_name,omitempty"` // the stored name
	OriginalName string `json:"original_name,omitempty"`
	UploadPath   string `json:"upload_path,omitempty"`
	// FilePath is UploadPath + "/" + FileName (kie sends it; for evolink
	// it is derived, and absent without a FileName).
	FilePath string `json:"file_path,omitempty"`
	// DownloadURL is where the file can be fetched; on evolink, its
	// file_url when it sent no download_url.
	DownloadURL string    `json:"download_url,omitempty"`
	FileURL     string    `json:"file_url,omitempty"`
	Size        *int64    `json:"size,omitempty"`
	MimeType    string    `json:"mime_type,omitempty"`
	UploadedAt  time.Time `json:"uploaded_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// kieData is kie's FileUploadResult, with every field optional so that
// a missing one is reported as absent rather than as a zero.
type kieData struct {
	FileName    *string    `json:"fileName"`
	FilePath    *string    `json:"filePath"`
	DownloadURL *string    `json:"downloadUrl"`
	FileSize    *int64     `json:"fileSize"`
	MimeType    *string    `json:"mimeType"`
	UploadedAt  *time.Time `json:"uploadedAt"`
}

// evolinkData is evolink's FileData.
type evolinkData struct {
	FileID       *string    `json:"file_id"`
	FileName     *string    `json:"file_name"`
	OriginalName *string    `json:"original_name"`
	FileSize     *int64     `json:"file_size"`
	MimeType     *string    `json:"mime_type"`
	UploadPath   *string    `json:"upload_path"`
	FileURL      *string    `json:"file_url"`
	DownloadURL  *string    `json:"download_url"`
	UploadTime   *time.Time `json:"upload_time"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// decodeResult reads the data of an upload's success envelope. It fails
// when the data does not say where the file went: kie's downloadUrl, or
// one of evolink's download_url, file_url or file_id.
func decodeResult(v Vendor, data []byte) (*Result, error) {
	if v == Kie {
		var d kieData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		if deref(d.DownloadURL) == "" {
			return nil, errors.New("no downloadUrl")
		}
		r := &Result{Vendor: Kie, FileName: deref(d.FileName), FilePath: deref(d.FilePath), DownloadURL: deref(d.DownloadURL),
			Size: d.FileSize, MimeType: deref(d.MimeType), UploadedAt: deref(d.UploadedAt)}
		if dir := path.Dir(r.FilePath); dir != "." && dir != "/" {
			r.UploadPath = dir
		}
		return r, nil
	}
	var d evolinkData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	r := &Result{Vendor: Evolink, FileID: deref(d.FileID), FileName: deref(d.FileName), OriginalName: deref(d.OriginalName),
		UploadPath: deref(d.UploadPath), DownloadURL: deref(d.DownloadURL), FileURL: deref(d.FileURL), Size: d.FileSize,
		MimeType: deref(d.MimeType), UploadedAt: deref(d.UploadTime), ExpiresAt: deref(d.ExpiresAt)}
	if r.DownloadURL == "" {
		r.DownloadURL = r.FileURL
	}
	if r.DownloadURL == "" && r.FileID == "" {
		return nil, errors.New("none of download_url, file_url and file_id")
	}
	if r.FileName != "" {
		r.FilePath = r.FileName
		if r.UploadPath != "" {
			r.FilePath = r.UploadPath + "/" + r.FileName
		}
	}
	return r, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
