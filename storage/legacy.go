package storage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// The first disk format kept each file at <root>/<tenant>/<key>, its data
// followed by a trailer: the metadata as JSON, the JSON's length (8 bytes,
// big-endian) and the magic "FILEUPM1". A server that finds such files
// imports them into the catalog once (see LegacyFile, Disk.Legacy and
// Disk.Adopt).
const (
	legacyTrailer  = 16
	legacyMagic    = "FILEUPM1"
	legacyMaxMeta  = 16 << 20 // larger than that format could write
	legacyTmp      = ".fileup-tmp-"
	legacyAside    = ".fileup-aside-"
	legacyStaging  = "staging"
	importSidecar  = ".fileup-import-"
	legacyTenantRE = `^[a-z0-9]{1,64}$`
)

var legacyTenant = regexp.MustCompile(legacyTenantRE)

// LegacyFile is a file of the first disk format.
type LegacyFile struct {
	// Path is where the file is, relative to the store's root:
	// Tenant + "/" + Key.
	Path string `json:"-"`
	// Tenant is the tenant directory the file is in (in that format, a
	// digest of the API token).
	Tenant string `json:"-"`
	// Key is the file's upload path and name, "images/photo.png".
	Key string `json:"-"`
	// The metadata the format kept.
	ID           string    `json:"id,omitempty"`
	OriginalName string    `json:"original_name,omitempty"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires,omitzero"`
}

// HasLegacy reports whether the store's root holds directories of the
// first format. It looks at the root's top level only.
func (d *Disk) HasLegacy() (bool, error) {
	entries, err := fs.ReadDir(d.root.FS(), ".")
	if err != nil {
		return false, fmt.Errorf("storage: %w", err)
	}
	for _, e := range entries {
		if isLegacyDir(e) {
			return true, nil
		}
	}
	return false, nil
}

func isLegacyDir(e fs.DirEntry) bool {
	return e.IsDir() && e.Name() != objectsDir && legacyTenant.MatchString(e.Name())
}

// Legacy calls fn for each readable file of the first format. What that
// format's interrupted writes left behind is cleaned up first as it would
// have been: temporary files and staged uploads are removed, and a file
// its janitor had set aside is put back unless a newer version took its
// place. A file whose trailer cannot be read is left where it is. A file
// that Adopt was moving when the process stopped is reported again, with
// the metadata Adopt saved, so that Adopt can finish.
func (d *Disk) Legacy(ctx context.Context, fn func(LegacyFile) error) error {
	paths, err := d.legacyPaths(ctx)
	if err != nil {
		return err
	}
	for _, p := range paths {
		f, ok, err := d.legacyFile(p)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// legacyPaths lists the first format's files, after removing its
// leftovers and putting back files set aside.
func (d *Disk) legacyPaths(ctx context.Context) ([]string, error) {
	entries, err := fs.ReadDir(d.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if !isLegacyDir(e) {
			continue
		}
		err := fs.WalkDir(d.root.FS(), e.Name(), func(p string, de fs.DirEntry, err error) error {
			if err != nil || !de.Type().IsRegular() {
				return ctx.Err()
			}
			keep, err := d.legacyLeftover(p, de.Name())
			if keep != "" {
				paths = append(paths, keep)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("storage: importing %s: %w", e.Name(), err)
		}
	}
	return paths, nil
}

// legacyLeftover cleans up one entry of the first format and returns
// the path of the file to import there, if any.
func (d *Disk) legacyLeftover(p, name string) (string, error) {
	switch {
	case strings.HasPrefix(p, legacyStaging+"/"), strings.HasPrefix(name, legacyTmp):
		return "", d.removeLegacy(p)
	case strings.HasPrefix(name, legacyAside):
		return d.putBackAside(p)
	case strings.HasPrefix(name, importSidecar):
		return "", d.dropOrphanSidecar(p)
	case strings.HasPrefix(name, "."):
		return "", nil
	}
	return p, nil
}

// putBackAside moves a file the first format's janitor had set aside back
// under its name and returns that, unless the name is taken (by the newer
// version that made the janitor set it aside) or it has expired.
func (d *Disk) putBackAside(p string) (string, error) {
	m, err := d.readTrailer(p)
	if err != nil || m.Expired(time.Now()) {
		return "", d.removeLegacy(p)
	}
	target := m.Tenant + "/" + m.Key
	if path.Dir(target) != path.Dir(p) || !legacyTenant.MatchString(m.Tenant) {
		return "", d.removeLegacy(p)
	}
	if _, err := d.root.Lstat(target); err == nil {
		return "", d.removeLegacy(p)
	}
	if err := d.root.Rename(p, target); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	return target, nil
}

func (d *Disk) removeLegacy(p string) error {
	if err := d.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// trailerMeta is the metadata the first format kept, with where it was.
type trailerMeta struct {
	LegacyFile
	Tenant string `json:"tenant"`
	Key    string `json:"key"`
}

func (m trailerMeta) Expired(now time.Time) bool {
	return !m.Expires.IsZero() && !now.Before(m.Expires)
}

// legacyFile reads the metadata of the file at p: from the sidecar Adopt
// writes, if there is one, else from its trailer.
func (d *Disk) legacyFile(p string) (LegacyFile, bool, error) {
	m, err := d.readSidecar(p)
	if errors.Is(err, fs.ErrNotExist) {
		m, err = d.readTrailer(p)
	}
	if err != nil {
		return LegacyFile{}, false, nil // not a file of that format: left alone
	}
	tenant, key, _ := strings.Cut(p, "/")
	if _, err := CleanKey(key); err != nil {
		return LegacyFile{}, false, nil
	}
	f := m.LegacyFile
	f.Path, f.Tenant, f.Key = p, tenant, key
	return f, true, nil
}

// readTrailer reads the metadata trailer of the file at p.
func (d *Disk) readTrailer(p string) (trailerMeta, error) {
	f, err := d.root.Open(p)
	if err != nil {
		return trailerMeta{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return trailerMeta{}, err
	}
	var tail [legacyTrailer]byte
	if st.Size() < legacyTrailer {
		return trailerMeta{}, errors.New("too short")
	}
	if _, err := f.ReadAt(tail[:], st.Size()-legacyTrailer); err != nil {
		return trailerMeta{}, err
	}
	n := int64(binary.BigEndian.Uint64(tail[:8]))
	if string(tail[8:]) != legacyMagic || n <= 0 || n > legacyMaxMeta || n > st.Size()-legacyTrailer {
		return trailerMeta{}, errors.New("no trailer")
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, st.Size()-legacyTrailer-n); err != nil {
		return trailerMeta{}, err
	}
	var m trailerMeta
	if err := json.Unmarshal(js, &m); err != nil {
		return trailerMeta{}, err
	}
	if m.Size != st.Size()-legacyTrailer-n {
		return trailerMeta{}, errors.New("size does not match")
	}
	return m, nil
}

func sidecarPath(p string) string {
	sum := sha256.Sum256([]byte(path.Base(p)))
	return path.Dir(p) + "/" + importSidecar + hex.EncodeToString(sum[:12])
}

func (d *Disk) readSidecar(p string) (trailerMeta, error) {
	b, err := d.root.ReadFile(sidecarPath(p))
	if err != nil {
		return trailerMeta{}, err
	}
	var m trailerMeta
	if err := json.Unmarshal(b, &m); err != nil || path.Base(m.Key) != path.Base(p) {
		return trailerMeta{}, fs.ErrNotExist // not this file's: ignored
	}
	return m, nil
}

// dropOrphanSidecar removes a sidecar whose file Adopt has moved already.
func (d *Disk) dropOrphanSidecar(p string) error {
	b, err := d.root.ReadFile(p)
	if err != nil {
		return nil
	}
	var m trailerMeta
	if json.Unmarshal(b, &m) == nil {
		if _, err := d.root.Lstat(path.Dir(p) + "/" + path.Base(m.Key)); err == nil {
			return nil // its file is still to be adopted
		}
	}
	return d.removeLegacy(p)
}

// Adopt makes the first-format file f the object key: its trailer is cut
// off and it moves to objects/key, the same inode, nothing copied. It is
// safe to run again after a crash at any point: the metadata is saved in a
// sidecar file before the trailer is cut, Legacy reports the file again
// from the sidecar, and the sidecar goes once the file has moved.
func (d *Disk) Adopt(f LegacyFile, key string) error {
	name, err := objectName(key)
	if err != nil {
		return err
	}
	side := sidecarPath(f.Path)
	if _, err := d.root.Lstat(side); errors.Is(err, fs.ErrNotExist) {
		if err := d.writeSidecar(side, f); err != nil {
			return err
		}
	}
	if err := d.cutTrailer(f.Path, f.Size); err != nil {
		return err
	}
	created, err := d.mkdirs(path.Dir(name))
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := d.root.Rename(f.Path, name); err != nil {
		return fmt.Errorf("storage: adopting %s: %w", f.Path, err)
	}
	d.syncDirs(path.Dir(name), created)
	d.syncDirs(path.Dir(f.Path), 0)
	return d.removeLegacy(side)
}

func (d *Disk) writeSidecar(side string, f LegacyFile) error {
	js, err := json.Marshal(trailerMeta{LegacyFile: f, Tenant: f.Tenant, Key: f.Key})
	if err != nil {
		return err
	}
	tmp := side + ".tmp"
	if err := d.root.WriteFile(tmp, js, 0o644); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := d.syncFile(tmp); err != nil {
		return err
	}
	if err := d.root.Rename(tmp, side); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	d.syncDirs(path.Dir(side), 0)
	return nil
}

// cutTrailer truncates the file at p to size and syncs it.
func (d *Disk) cutTrailer(p string, size int64) error {
	fh, err := d.root.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer fh.Close()
	if err := fh.Truncate(size); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := fh.Sync(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return fh.Close()
}

func (d *Disk) syncFile(p string) error {
	fh, err := d.root.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer fh.Close()
	if err := fh.Sync(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// RemoveLegacy deletes a first-format file that is not imported (it has
// expired).
func (d *Disk) RemoveLegacy(f LegacyFile) error { return d.removeLegacy(f.Path) }

// PruneLegacy removes the first format's directories once they hold no
// file; a directory still holding one (unreadable, so not imported) is
// kept.
func (d *Disk) PruneLegacy() error {
	entries, err := fs.ReadDir(d.root.FS(), ".")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	for _, e := range entries {
		if isLegacyDir(e) {
			d.pruneEmpty(e.Name())
		}
	}
	d.syncDirs(".", 0)
	return nil
}

// pruneEmpty removes dir's empty subdirectories, then dir if it is empty.
func (d *Disk) pruneEmpty(dir string) {
	entries, err := fs.ReadDir(d.root.FS(), dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			d.pruneEmpty(dir + "/" + e.Name())
		}
	}
	_ = d.root.Remove(dir) // fails when not empty: kept
}
