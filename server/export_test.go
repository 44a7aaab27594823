package server

// TenantOfToken returns the tenant id of a configured token ("" for an
// unknown one): tests look files up in the catalog by tenant.
func TenantOfToken(s *Server, token string) string { return s.tenantOfToken(token) }
