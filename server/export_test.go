package server

import "github.com/fileup/fileup/storage"

// QuotaInFlight reports what the uploads of tenant now in flight hold in
// the quota ledger: bytes read so far and files reserved. Tests use it to
// order their uploads against the server's reading of them.
func QuotaInFlight(s *Server, tenant string) storage.Usage {
	if s.quota == nil {
		return storage.Usage{}
	}
	s.quota.mu.Lock()
	defer s.quota.mu.Unlock()
	if t := s.quota.tenants[tenant]; t != nil {
		return t.inflight
	}
	return storage.Usage{}
}
