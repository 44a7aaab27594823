package server

import (
	"net/http"

	"github.com/fileup/fileup/gen/evolink"
)

// quotaGroup is the user_group every token is in: the server has one
// quota for all tokens.
const quotaGroup = "default"

// GetFilesQuota answers evolink's quota query for the calling token from
// the catalog:
//   - user_group: "default" (one quota for every token);
//   - used_files: the token's live files (expired ones not counted);
//   - max_files: the server's --quota-files, and remain_files what is
//     left of it (never negative); both absent when files are unlimited;
//   - is_custom: false (no per-token quotas), so quota_reason is absent.
func (e evolinkRoutes) GetFilesQuota(w http.ResponseWriter, r *http.Request) {
	s := e.s
	tenant, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	u, err := s.cat.Usage(r.Context(), tenant, s.now())
	if err != nil {
		writeEnvelope(w, http.StatusInternalServerError, s.catalogError(r.Context(), err).Msg)
		return
	}
	group, used, custom := quotaGroup, int(u.Files), false
	d := &evolink.QuotaData{UserGroup: &group, UsedFiles: &used, IsCustom: &custom}
	if limit := s.cfg.QuotaFiles; limit > 0 {
		maxFiles, remain := int(limit), int(max(0, limit-u.Files))
		d.MaxFiles, d.RemainFiles = &maxFiles, &remain
	}
	success, code := true, http.StatusOK
	writeJSON(w, evolink.QuotaResponse{Success: &success, Code: &code, Data: d})
}

// DownloadFile serves evolink's download_url: /api/v1/files/download/file_<id>.
func (e evolinkRoutes) DownloadFile(w http.ResponseWriter, r *http.Request, fileID string) {
	e.s.downloadByID(w, r, fileID)
}
