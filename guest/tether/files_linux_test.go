package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listedFile is one line of the listing, read back.
type listedFile struct {
	Path  string
	Kind  string
	Mode  uint32
	UID   uint32
	GID   uint32
	Size  int64
	Mtime int64
	Link  string
}

// parseListing reads the listing's lines back, each exactly an 8-element JSON array.
func parseListing(t *testing.T, data []byte) []listedFile {
	t.Helper()
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("the listing does not end with a newline: %q", data)
	}
	var files []listedFile
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		var fields []json.RawMessage
		if err := json.Unmarshal(scanner.Bytes(), &fields); err != nil {
			t.Fatalf("line %q: %v", scanner.Text(), err)
		}
		if len(fields) != 8 {
			t.Fatalf("line %q: %d fields, want 8", scanner.Text(), len(fields))
		}
		var f listedFile
		for i, dst := range []any{&f.Path, &f.Kind, &f.Mode, &f.UID, &f.GID, &f.Size, &f.Mtime, &f.Link} {
			if err := json.Unmarshal(fields[i], dst); err != nil {
				t.Fatalf("line %q, field %d: %v", scanner.Text(), i, err)
			}
		}
		files = append(files, f)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// listing is listFiles's output for root, read back.
func listing(t *testing.T, root string) []listedFile {
	t.Helper()
	var buf bytes.Buffer
	if err := listFiles(root, &buf); err != nil {
		t.Fatal(err)
	}
	return parseListing(t, buf.Bytes())
}

// A tree of each kind lists each entry with its exact fields, depth first and sorted by name, and
// never the root itself.
func TestListFiles_GivenATree_ThenEachEntryWithItsFieldsInOrder(t *testing.T) {
	root := t.TempDir()
	at := func(rel string) string { return filepath.Join(root, rel) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The umask is left out of every mode: each is set with chmod (syscall's: os.Chmod takes Go's
	// FileMode, whose setuid and sticky bits are not st_mode's).
	must(os.WriteFile(at("a-file"), []byte("hello"), 0o600))
	must(os.Chmod(at("a-file"), 0o640))
	must(os.Mkdir(at("b-dir"), 0o700))
	must(os.WriteFile(at("b-dir/inner \"quoted\""), []byte("0123456789"), 0o600))
	must(os.Chmod(at("b-dir/inner \"quoted\""), 0o644))
	must(os.Mkdir(at("b-dir/empty"), 0o700))
	must(syscall.Chmod(at("b-dir/empty"), 0o1777))
	must(os.Symlink("../etc/passwd", at("c-link")))
	must(syscall.Mkfifo(at("d-fifo"), 0o600))
	must(os.Chmod(at("d-fifo"), 0o620))
	must(os.WriteFile(at("e-setuid"), []byte("#!/bin/sh\n"), 0o700))
	must(syscall.Chmod(at("e-setuid"), 0o4755))
	must(os.Chmod(at("b-dir"), 0o750))
	times := map[string]int64{
		"a-file": 1600000000, "b-dir/inner \"quoted\"": 1600000001, "b-dir/empty": 1600000002,
		"d-fifo": 1600000003, "e-setuid": 1600000004, "b-dir": 1600000005,
	}
	// Children first: setting a child's time does not touch its directory's, but creating one does.
	for _, rel := range []string{"a-file", "b-dir/inner \"quoted\"", "b-dir/empty", "d-fifo", "e-setuid", "b-dir"} {
		mtime := time.Unix(times[rel], 999_000_000) // the fraction is dropped
		must(os.Chtimes(at(rel), mtime, mtime))
	}
	linkInfo, err := os.Lstat(at("c-link"))
	must(err)
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())

	got := listing(t, root)
	want := []listedFile{
		{"/a-file", "f", 0o640, uid, gid, 5, 1600000000, ""},
		{"/b-dir", "d", 0o750, uid, gid, 0, 1600000005, ""},
		{"/b-dir/empty", "d", 0o1777, uid, gid, 0, 1600000002, ""},
		{"/b-dir/inner \"quoted\"", "f", 0o644, uid, gid, 10, 1600000001, ""},
		{"/c-link", "l", 0o777, uid, gid, 0, linkInfo.ModTime().Unix(), "../etc/passwd"},
		{"/d-fifo", "p", 0o620, uid, gid, 0, 1600000003, ""},
		{"/e-setuid", "f", 0o4755, uid, gid, 10, 1600000004, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("THEN each entry with its fields, depth first and sorted\n got %+v\nwant %+v", got, want)
	}
	for _, f := range got {
		if f.Path == "/" || f.Path == "" {
			t.Errorf("THEN the root itself is not listed, got %+v", f)
		}
	}
}

// Entries are sorted by their names' bytes, and a directory's entries come right after it, before
// the next name.
func TestListFiles_GivenNamesOutOfOrder_ThenSortedByteWise(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"b", "a", "B", "a.d", "a/z", "a/y"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, f := range listing(t, root) {
		paths = append(paths, f.Path)
	}
	want := []string{"/B", "/a", "/a/y", "/a/z", "/a.d", "/b"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("THEN %q, got %q", want, paths)
	}
}

func TestListFiles_GivenAnEmptyRoot_ThenNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := listFiles(t.TempDir(), &buf); err != nil || buf.Len() != 0 {
		t.Errorf("THEN no line and no error, got %q, %v", buf.Bytes(), err)
	}
}

func TestListFiles_GivenNoRoot_ThenAnErrorNamingIt(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	err := listFiles(missing, io.Discard)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("THEN an error naming %s, got %v", missing, err)
	}
}

// A directory that cannot be read (here a root that is a file) ends the walk with an error naming
// it as the container sees it; only an entry that vanished is passed over.
func TestListFiles_GivenADirectoryThatCannotBeRead_ThenAnErrorNamingIt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := listFiles(file, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "/: ") {
		t.Errorf("THEN an error naming /, got %v", err)
	}
}

// An entry on another filesystem than the root's is "m", whatever its type; on the root's, its type.
func TestKindOf_GivenEachTypeAndDevice_ThenItsLetter(t *testing.T) {
	for _, c := range []struct {
		mode     uint32
		dev      uint64
		wantKind string
	}{
		{syscall.S_IFREG | 0o644, 8, "f"},
		{syscall.S_IFDIR | 0o755, 8, "d"},
		{syscall.S_IFLNK | 0o777, 8, "l"},
		{syscall.S_IFCHR | 0o666, 8, "c"},
		{syscall.S_IFBLK | 0o660, 8, "b"},
		{syscall.S_IFIFO | 0o644, 8, "p"},
		{syscall.S_IFSOCK | 0o755, 8, "s"},
		{syscall.S_IFREG | 0o4755, 8, "f"},
		{syscall.S_IFDIR | 0o555, 4, "m"},
		{syscall.S_IFDIR | 0o1777, 33, "m"},
		{syscall.S_IFREG | 0o644, 9, "m"},
	} {
		if got := kindOf(c.mode, c.dev, 8); got != c.wantKind {
			t.Errorf("kindOf(%o, dev %d, root's 8) = %q, want %q", c.mode, c.dev, got, c.wantKind)
		}
	}
}

// Where the machine has a mount inside /dev (/dev/pts, /dev/shm), the listing of /dev shows it as
// "m" and nothing under it.
func TestListFiles_GivenAMountInside_ThenItIsMAndNotDescended(t *testing.T) {
	var devSt syscall.Stat_t
	if err := syscall.Stat("/dev", &devSt); err != nil {
		t.Fatal(err)
	}
	var mount string
	for _, name := range []string{"pts", "shm", "mqueue"} {
		var st syscall.Stat_t
		if syscall.Lstat("/dev/"+name, &st) == nil && st.Dev != devSt.Dev && st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			mount = "/" + name
			break
		}
	}
	if mount == "" {
		t.Fatal("no filesystem is mounted on a directory inside /dev (pts, shm, mqueue) here: the test needs one to read")
	}
	seen := false
	for _, f := range listing(t, "/dev") {
		if f.Path == mount {
			seen = true
			if f.Kind != "m" || f.Size != 0 || f.Link != "" {
				t.Errorf("THEN %s is listed as a mount, got %+v", mount, f)
			}
		}
		if strings.HasPrefix(f.Path, mount+"/") {
			t.Errorf("THEN nothing under %s, got %+v", mount, f)
		}
	}
	if !seen {
		t.Errorf("THEN %s is listed", mount)
	}
}

// What the exec's stdout carries is the listing, gzip-compressed.
func TestWriteFileList_GivenATree_ThenTheListingGzipped(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var plain, zipped bytes.Buffer
	if err := listFiles(root, &plain); err != nil {
		t.Fatal(err)
	}
	if err := writeFileList(&zipped, root); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&zipped)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain.Bytes()) || !bytes.HasPrefix(got, []byte(`["/f","f",`)) {
		t.Errorf("THEN the listing, got %q, want %q", got, plain.Bytes())
	}
}

// A files request needs no command, and a maintenance boot serves it (a stopped container's diff).
func TestParseExecRequest_GivenFiles_ThenValidAndServedInMaintenance(t *testing.T) {
	r, err := ParseExecRequest([]byte(`{"files":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, ExecRequest{Files: true}) {
		t.Errorf("ParseExecRequest = %+v", r)
	}
	// Which requests a maintenance boot serves: TestServedInMaintenance_GivenEachKindOfRequest_ThenOnlyDockerCpAndDiff.
	if !r.ServedInMaintenance() {
		t.Errorf("ServedInMaintenance({\"files\":true}) = false")
	}
	if _, err := ParseExecRequest([]byte(`{"files":false}`)); err == nil {
		t.Errorf("ParseExecRequest({\"files\":false}) took a request with no command")
	}
}
