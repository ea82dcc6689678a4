package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// docker diff's listing: the host keeps the image's listing and compares the container's with it,
// so the tether only says what is there, one line per entry, each a JSON array and a newline:
//
//	[path, kind, mode, uid, gid, size, mtime, link]
//
//	path:  as the container sees it ("/etc/passwd")
//	kind:  f file, d directory, l symbolic link, c char device, b block device, p fifo, s socket,
//	       m another filesystem mounted there (/proc, /dev, a volume), not descended into
//	mode:  st_mode & 07777 (permissions with setuid, setgid and sticky)
//	uid, gid
//	size:  st_size of a file, 0 otherwise
//	mtime: st_mtime in whole seconds
//	link:  a symbolic link's target, "" otherwise
//
// Depth first, each directory's entries sorted by name, so that the same tree lists the same.

// writeFileList writes the listing of the tree at root (listFiles) to w, gzip-compressed: its
// lines repeat much (modes, owners, times), and the console carries it as base64.
func writeFileList(w io.Writer, root string) error {
	zw := gzip.NewWriter(w)
	err := listFiles(root, zw)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// listFiles writes the listing of every entry under root (not root itself) to w. An entry that
// vanishes meanwhile is left out; any other error ends it, naming the entry.
func listFiles(root string, w io.Writer) error {
	var st syscall.Stat_t
	if err := syscall.Stat(root, &st); err != nil {
		return fmt.Errorf("%s: %v", root, err)
	}
	l := fileLister{out: bufio.NewWriterSize(w, 64*1024), rootDev: uint64(st.Dev)}
	if err := l.dir(root, ""); err != nil {
		return err
	}
	return l.out.Flush()
}

// fileLister is one listing under way: where it goes, and the root's filesystem, which an entry
// on another one is told from.
type fileLister struct {
	out     *bufio.Writer
	rootDev uint64
	line    []byte
}

// dir lists the entries of the directory at full, which the container sees at inside ("" for the
// root), each followed by its own entries when it is a directory of the root's filesystem.
func (l *fileLister) dir(full, inside string) error {
	entries, err := os.ReadDir(full)
	if err != nil {
		if vanished(err) {
			return nil
		}
		return fmt.Errorf("%s: %v", displayPath(inside), err)
	}
	for _, e := range entries {
		name := e.Name()
		entryFull, entryInside := filepath.Join(full, name), inside+"/"+name
		var st syscall.Stat_t
		if err := syscall.Lstat(entryFull, &st); err != nil {
			if vanished(err) {
				continue
			}
			return fmt.Errorf("%s: %v", entryInside, err)
		}
		kind := kindOf(st.Mode, uint64(st.Dev), l.rootDev)
		link := ""
		if kind == "l" {
			if link, err = os.Readlink(entryFull); err != nil {
				if vanished(err) {
					continue
				}
				return fmt.Errorf("%s: %v", entryInside, err)
			}
		}
		size := int64(0)
		if kind == "f" {
			size = st.Size
		}
		l.writeLine(entryInside, kind, st.Mode&0o7777, st.Uid, st.Gid, size, int64(st.Mtim.Sec), link)
		if kind == "d" {
			if err := l.dir(entryFull, entryInside); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeLine writes one entry's line, built by hand: the walk writes one for every file of the disk,
// and only its strings need JSON's quoting.
func (l *fileLister) writeLine(path, kind string, mode, uid, gid uint32, size, mtime int64, link string) {
	b := append(l.line[:0], '[')
	b = appendJSONString(b, path)
	b = append(b, ',', '"')
	b = append(b, kind...)
	b = append(b, '"', ',')
	b = strconv.AppendUint(b, uint64(mode), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(uid), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(gid), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, mtime, 10)
	b = append(b, ',')
	b = appendJSONString(b, link)
	b = append(b, ']', '\n')
	l.line = b
	// A bufio.Writer keeps its first error and returns it from Flush, at the listing's end.
	_, _ = l.out.Write(b)
}

// appendJSONString appends s as a JSON string (invalid UTF-8 comes out as U+FFFD, as Marshal has
// it).
func appendJSONString(b []byte, s string) []byte {
	quoted, _ := json.Marshal(s) // a string always marshals
	return append(b, quoted...)
}

// kindOf is an entry's kind in the listing from its st_mode and st_dev: "m" when it is on another
// filesystem than the root's (a mount point), else its file type's letter.
func kindOf(mode uint32, dev, rootDev uint64) string {
	if dev != rootDev {
		return "m"
	}
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "d"
	case syscall.S_IFLNK:
		return "l"
	case syscall.S_IFCHR:
		return "c"
	case syscall.S_IFBLK:
		return "b"
	case syscall.S_IFIFO:
		return "p"
	case syscall.S_IFSOCK:
		return "s"
	}
	// S_IFREG, and any type Linux does not have.
	return "f"
}

// vanished says whether err is an entry's being gone (removed while the walk went on).
func vanished(err error) bool {
	return errors.Is(err, syscall.ENOENT)
}

// displayPath is a directory's path in the container for a message ("/" for the root).
func displayPath(inside string) string {
	if inside == "" {
		return "/"
	}
	return inside
}
