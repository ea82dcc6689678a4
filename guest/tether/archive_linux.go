package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ArchiveRequest is docker cp's side of an exec request: instead of running a process, the tether
// itself reads or writes the container's files, as dockerd does, so no tool of the image's is
// needed:
//
//	stat: the path's PathStat, as JSON, on the exec's stdout
//	get:  the PathStat's JSON and a newline, then a tar of the path, on stdout
//	put:  a tar read from the exec's input, extracted into the directory at path
//
// The exit code tells how it went (archiveFailed, archiveNotFound, archiveRefused), with the
// reason on stderr.
type ArchiveRequest struct {
	Op                   string `json:"op"`
	Path                 string `json:"path"`
	NoOverwriteDirNonDir bool   `json:"no_overwrite_dir_non_dir,omitempty"`
	CopyUIDGID           bool   `json:"copy_uid_gid,omitempty"`
	// OneFilesystem: a get stays on the path's filesystem; what is mounted below it (volumes, /dev,
	// /dev/shm) comes as its empty mount point (docker export of the container's own disk).
	OneFilesystem bool `json:"one_filesystem,omitempty"`
}

// PathStat is Docker's stat of a container path (its X-Docker-Container-Path-Stat header): mode
// holds Go's fs.FileMode bits, as dockerd sends them, and linkTarget the path a symbolic link
// resolves to, in the container.
type PathStat struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Mode       uint32 `json:"mode"`
	Mtime      string `json:"mtime"`
	LinkTarget string `json:"linkTarget"`
}

// Exit codes of an archive operation, which the endpoint answers as HTTP statuses (500, 404, 400).
const (
	archiveFailed   = 1
	archiveNotFound = 2
	archiveRefused  = 3
)

// archiveError carries the exit code an operation's failure ends with.
type archiveError struct {
	code int
	msg  string
}

func (e *archiveError) Error() string { return e.msg }

func archiveErrorf(code int, format string, args ...any) error {
	return &archiveError{code, fmt.Sprintf(format, args...)}
}

// archiveExit is the exit code and stderr message of an operation that ended with err.
func archiveExit(err error) (int, string) {
	if err == nil {
		return 0, ""
	}
	var a *archiveError
	if errors.As(err, &a) {
		return a.code, a.msg
	}
	return archiveFailed, err.Error()
}

// containerFS is the container's filesystem under root ("/" in the guest, where the tether runs
// chrooted into it; a directory in tests).
type containerFS struct{ root string }

// full is where a container path is: relative paths are taken from the container's root, as
// dockerd takes them, and a trailing "/" or "/." is kept (it asks for a directory's content).
func (c containerFS) full(p string) string {
	cleaned := filepath.Join(c.root, filepath.Clean("/"+p))
	switch {
	case strings.HasSuffix(p, "/.") || p == ".":
		return strings.TrimSuffix(cleaned, "/") + "/."
	case strings.HasSuffix(p, "/") && cleaned != "/":
		return cleaned + "/"
	}
	return cleaned
}

// inside is a host path as the container sees it.
func (c containerFS) inside(full string) string {
	if c.root == "/" || c.root == "" {
		return full
	}
	rel, err := filepath.Rel(c.root, full)
	if err != nil || strings.HasPrefix(rel, "..") {
		return full
	}
	return filepath.Clean("/" + rel)
}

// pathError names a path that cannot be read as dockerd does ("Could not find the file …").
func pathError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return archiveErrorf(archiveNotFound, "Could not find the file %s in container", p)
	case errors.Is(err, syscall.ENOTDIR):
		return archiveErrorf(archiveNotFound, "Could not find the file %s in container: a part of the path is not a directory", p)
	}
	return archiveErrorf(archiveFailed, "%s: %v", p, err)
}

// Stat is the path's PathStat; a symbolic link at its end is not followed (its target is told),
// unless the path ends with "/" or "/.".
func (c containerFS) Stat(p string) (PathStat, error) {
	full := c.full(p)
	fi, err := os.Lstat(full)
	if err != nil {
		return PathStat{}, pathError(p, err)
	}
	name := filepath.Base(full)
	if name == string(filepath.Separator) {
		name = "."
	}
	st := PathStat{Name: name, Size: fi.Size(), Mode: uint32(fi.Mode()), Mtime: fi.ModTime().UTC().Format(time.RFC3339Nano)}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(full); err == nil {
			st.LinkTarget = c.inside(target)
		}
	}
	return st, nil
}

// Get writes the path's stat as a JSON line, then a tar of it: its entries named from its base
// name ("hostname"; "etc/", "etc/passwd"…; "./…" for the content of "dir/."), as dockerd's, which
// the docker CLI renames as it extracts them.
func (c containerFS) Get(w io.Writer, p string, oneFilesystem bool) error {
	st, err := c.Stat(p)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(st)
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	top := c.full(p)
	base := st.Name
	topDev := deviceOf(top)
	err = filepath.Walk(top, func(fp string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, fp)
		name := base
		if rel != "." {
			name = base + "/" + filepath.ToSlash(rel)
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(fp); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			// A socket has no tar form: dockerd's archives leave them out too.
			return nil
		}
		hdr.Name = name
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(fp)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		// The kernel's own filesystems (/proc, /sys…) are left empty: their files are not the
		// container's, and some never end.
		if fi.IsDir() && fp != top && (pseudoFilesystem(fp) || (oneFilesystem && deviceOf(fp) != topDev)) {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return archiveErrorf(archiveFailed, "archiving %s: %v", p, err)
	}
	return tw.Close()
}

// pseudoFilesystems are the magic numbers (statfs(2)) of filesystems whose files the kernel makes:
// proc, sysfs, devpts, cgroup, cgroup2, debugfs, securityfs, tracefs.
var pseudoFilesystems = map[int64]bool{0x9fa0: true, 0x62656572: true, 0x1cd1: true, 0x27e0eb: true, 0x63677270: true, 0x64626720: true, 0x73636673: true, 0x74726163: true}

// deviceOf is the filesystem (st_dev) a path is on; 0 when it cannot be read.
func deviceOf(path string) uint64 {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return 0
	}
	return uint64(st.Dev)
}

func pseudoFilesystem(dir string) bool {
	var s syscall.Statfs_t
	return syscall.Statfs(dir, &s) == nil && pseudoFilesystems[int64(s.Type)]
}

// Put extracts the tar r into the directory at p (a symbolic link to one is followed), as dockerd's
// PUT archive (the tar plain or compressed, as Decompressed reads it): parents an entry needs are made, what an entry replaces is removed first (a directory
// over a directory is merged), and with NoOverwriteDirNonDir a directory and a non-directory never
// replace each other. Entries keep their owner, unless owner is given (docker cp -a of a container
// with a user), and their mode and times.
func (c containerFS) Put(r io.Reader, p string, req ArchiveRequest, owner *Identity) error {
	dest := c.full(p)
	fi, err := os.Stat(dest)
	if err != nil {
		return pathError(p, err)
	}
	if !fi.IsDir() {
		return archiveErrorf(archiveRefused, "extraction point is not a directory: %s", p)
	}
	dest = filepath.Clean(dest)
	type dirTimes struct {
		path string
		hdr  *tar.Header
	}
	var dirs []dirTimes
	plain, err := Decompressed(r)
	if err != nil {
		return archiveErrorf(archiveRefused, "reading the archive: %v", err)
	}
	tr := tar.NewReader(plain)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return archiveErrorf(archiveRefused, "reading the archive: %v", err)
		}
		// Every entry lands under dest, whatever its name says.
		rel := path.Clean("/" + hdr.Name)
		if rel == "/" || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return archiveErrorf(archiveFailed, "%s: %v", rel, err)
		}
		isDir := hdr.Typeflag == tar.TypeDir
		if existing, err := os.Lstat(target); err == nil {
			switch {
			case existing.IsDir() && isDir:
				// merged
			case req.NoOverwriteDirNonDir && existing.IsDir():
				return archiveErrorf(archiveRefused, "cannot overwrite directory %q with non-directory %q", c.inside(target), hdr.Name)
			case req.NoOverwriteDirNonDir && isDir:
				return archiveErrorf(archiveRefused, "cannot overwrite non-directory %q with directory %q", c.inside(target), hdr.Name)
			default:
				if err := os.RemoveAll(target); err != nil {
					return archiveErrorf(archiveFailed, "replacing %s: %v", c.inside(target), err)
				}
			}
		}
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.Mkdir(target, 0o700)
			if errors.Is(err, fs.ErrExist) {
				err = nil
			}
		case tar.TypeReg, tar.TypeGNUSparse:
			var f *os.File
			if f, err = os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
				_, err = io.Copy(f, tr)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
		case tar.TypeSymlink:
			err = os.Symlink(hdr.Linkname, target)
		case tar.TypeLink:
			err = os.Link(filepath.Join(dest, filepath.FromSlash(path.Clean("/"+hdr.Linkname))), target)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			kind := map[byte]uint32{tar.TypeChar: syscall.S_IFCHR, tar.TypeBlock: syscall.S_IFBLK, tar.TypeFifo: syscall.S_IFIFO}[hdr.Typeflag]
			err = syscall.Mknod(target, kind|uint32(mode.Perm()), int(mkdev(hdr.Devmajor, hdr.Devminor)))
		default:
			logf("docker cp: %s: entry type %q left out", hdr.Name, hdr.Typeflag)
			continue
		}
		if err != nil {
			return archiveErrorf(archiveFailed, "%s: %v", c.inside(target), err)
		}
		uid, gid := hdr.Uid, hdr.Gid
		if owner != nil {
			uid, gid = int(owner.UID), int(owner.GID)
		}
		if err := os.Lchown(target, uid, gid); err != nil && !errors.Is(err, syscall.EPERM) {
			return archiveErrorf(archiveFailed, "%s: %v", c.inside(target), err)
		}
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			continue
		}
		// After the chown, which clears setuid and setgid.
		if err := os.Chmod(target, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return archiveErrorf(archiveFailed, "%s: %v", c.inside(target), err)
		}
		if isDir {
			// A directory's times are set once its entries are in: they would change them.
			dirs = append(dirs, dirTimes{target, hdr})
		} else {
			_ = os.Chtimes(target, accessTime(hdr), hdr.ModTime)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Chtimes(dirs[i].path, accessTime(dirs[i].hdr), dirs[i].hdr.ModTime)
	}
	return nil
}

func accessTime(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

// mkdev is Linux's device number of a major and minor (makedev(3)).
func mkdev(major, minor int64) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}
