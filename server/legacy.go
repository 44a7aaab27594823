package server

import (
	"context"
	"errors"
	"fmt"
	"path"
	"unicode/utf8"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/storage"
)

// ImportLegacy imports into the catalog the files that an earlier version
// of the server stored in d in its first format (metadata in a trailer of
// each file), and reports how many it imported. It does nothing, at the
// cost of one directory read, when there are none: run it at every start,
// before serving. Each file keeps its id, its name and its download URL
// (the first format's /f/<tenant>/<path>/<name>) and moves under a new
// object key without being copied; files of a token no longer configured
// are imported under their old tenant, reachable by their old URLs only;
// expired files are deleted. An import interrupted at any point resumes
// at the next start with nothing lost.
func (s *Server) ImportLegacy(ctx context.Context, d *storage.Disk) (int, error) {
	has, err := d.HasLegacy()
	if err != nil || !has {
		return 0, err
	}
	tenants := map[string]string{}
	for _, t := range s.cfg.Tokens {
		tenants[legacyTenantOf(t)] = s.tenantOfToken(t)
	}
	n := 0
	err = d.Legacy(ctx, func(lf storage.LegacyFile) error {
		imported, err := s.importFile(ctx, d, lf, tenants)
		if imported {
			n++
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("server: importing files of the first storage format: %w", err)
	}
	return n, d.PruneLegacy()
}

// importFile imports one file of the first format, or removes it if it
// has expired.
func (s *Server) importFile(ctx context.Context, d *storage.Disk, lf storage.LegacyFile, tenants map[string]string) (bool, error) {
	now := s.now()
	if !lf.Expires.IsZero() && !now.Before(lf.Expires) {
		return false, d.RemoveLegacy(lf)
	}
	tenant := tenants[lf.Tenant]
	if tenant == "" {
		tenant = lf.Tenant
	}
	id := lf.ID
	if id == "" {
		id = newID()
	}
	dir, name := path.Split(lf.Key)
	dir = path.Clean("/" + dir)[1:]
	link := lf.Tenant
	if dir != "" {
		link += "/" + dir
	}
	f := catalog.File{
		ID: id, Tenant: tenant, Path: dir, Name: name, Link: link, Object: tenant + "/" + id,
		Size: lf.Size, ContentType: lf.ContentType, OriginalName: clipUTF8(lf.OriginalName, maxOriginalName),
		Created: lf.Created, Expires: lf.Expires,
	}
	got, err := s.cat.Import(ctx, f, now)
	if err != nil && !errors.Is(err, catalog.ErrExists) {
		return false, err
	}
	// ErrExists: imported by an earlier, interrupted run; finish moving it.
	if err := d.Adopt(lf, got.Object); err != nil {
		return false, err
	}
	return true, nil
}

// clipUTF8 cuts s to at most n bytes on a rune boundary.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
