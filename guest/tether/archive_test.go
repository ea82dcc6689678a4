package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// A container filesystem in a temporary directory: /etc/hostname, /data/a/b.txt, /data/link -> a.
func testContainerFS(t *testing.T) containerFS {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("web-1\n"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "data/a"), 0o750))
	must(os.WriteFile(filepath.Join(root, "data/a/b.txt"), []byte("bee"), 0o600))
	must(os.Symlink("a", filepath.Join(root, "data/link")))
	return containerFS{root: root}
}

func tarEntries(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	entries := map[string]string{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			entries[hdr.Name] = "-> " + hdr.Linkname
		case tar.TypeDir:
			entries[hdr.Name] = "dir"
		default:
			entries[hdr.Name] = string(body)
		}
	}
}

func getArchive(t *testing.T, c containerFS, p string) (PathStat, map[string]string) {
	t.Helper()
	return getArchiveOf(t, c, p, false)
}

// getArchiveOf is getArchive with one_filesystem said.
func getArchiveOf(t *testing.T, c containerFS, p string, oneFilesystem bool) (PathStat, map[string]string) {
	t.Helper()
	var out bytes.Buffer
	if err := c.Get(&out, p, oneFilesystem); err != nil {
		t.Fatalf("Get %s: %v", p, err)
	}
	br := bufio.NewReader(&out)
	line, err := br.ReadBytes('\n')
	if err != nil {
		t.Fatalf("no stat line: %v", err)
	}
	var st PathStat
	if err := json.Unmarshal(line, &st); err != nil {
		t.Fatalf("stat line %q: %v", line, err)
	}
	return st, tarEntries(t, br)
}

func keys(m map[string]string) string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	sort.Strings(k)
	return strings.Join(k, " ")
}

func TestArchiveStat(t *testing.T) {
	c := testContainerFS(t)
	st, err := c.Stat("/etc/hostname")
	if err != nil || st.Name != "hostname" || st.Size != 6 || fs.FileMode(st.Mode) != 0o644 {
		t.Fatalf("stat of a file: %+v, %v", st, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, st.Mtime); err != nil {
		t.Fatalf("mtime %q: %v", st.Mtime, err)
	}
	st, err = c.Stat("data/link")
	if err != nil || fs.FileMode(st.Mode)&fs.ModeSymlink == 0 || st.LinkTarget != "/data/a" {
		t.Fatalf("stat of a symbolic link, relative to the root: %+v, %v", st, err)
	}
	st, err = c.Stat("/data/link/")
	if err != nil || !fs.FileMode(st.Mode).IsDir() || st.LinkTarget != "" {
		t.Fatalf("a trailing slash follows the link: %+v, %v", st, err)
	}
	for p, code := range map[string]int{"/nope": archiveNotFound, "/etc/hostname/x": archiveNotFound} {
		if got, msg := archiveExit(func() error { _, err := c.Stat(p); return err }()); got != code || !strings.Contains(msg, "Could not find the file "+p) {
			t.Errorf("stat %s: exit %d %q, want %d", p, got, msg, code)
		}
	}
}

func TestArchiveGet(t *testing.T) {
	c := testContainerFS(t)
	st, entries := getArchive(t, c, "/etc/hostname")
	if st.Name != "hostname" || keys(entries) != "hostname" || entries["hostname"] != "web-1\n" {
		t.Fatalf("a file: %+v %v", st, entries)
	}
	_, entries = getArchive(t, c, "/data")
	if keys(entries) != "data/ data/a/ data/a/b.txt data/link" || entries["data/link"] != "-> a" || entries["data/a/b.txt"] != "bee" {
		t.Fatalf("a directory, named from its base: %v", entries)
	}
	_, entries = getArchive(t, c, "/data/.")
	if keys(entries) != "./ ./a/ ./a/b.txt ./link" {
		t.Fatalf("a directory's content (dir/.): %v", entries)
	}
	_, entries = getArchive(t, c, "/data/link")
	if keys(entries) != "link" || entries["link"] != "-> a" {
		t.Fatalf("a symbolic link, not followed: %v", entries)
	}
	var out bytes.Buffer
	if code, _ := archiveExit(c.Get(&out, "/missing", false)); code != archiveNotFound || out.Len() != 0 {
		t.Fatalf("a missing path: exit %d, %d bytes written", code, out.Len())
	}
}

func tarOf(t *testing.T, entries ...*tar.Header) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = h.Linkname
			h.Linkname = ""
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	return &b
}

func TestArchivePut(t *testing.T) {
	c := testContainerFS(t)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	// A regular file's body rides in Linkname (tarOf).
	archive := tarOf(t,
		&tar.Header{Name: "conf/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		&tar.Header{Name: "conf/app.ini", Typeflag: tar.TypeReg, Mode: 0o640, ModTime: mtime, Linkname: "x=1\n"},
		&tar.Header{Name: "conf/current", Typeflag: tar.TypeSymlink, Linkname: "app.ini", ModTime: mtime},
		&tar.Header{Name: "../../escape.txt", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "stays in"},
	)
	if err := c.Put(archive, "/data/link", ArchiveRequest{}, nil); err != nil {
		t.Fatalf("Put into a link to a directory: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(c.root, "data/a/conf/app.ini"))
	fi, _ := os.Stat(filepath.Join(c.root, "data/a/conf/app.ini"))
	if err != nil || string(got) != "x=1\n" || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mtime) {
		t.Fatalf("the file extracted: %q %v %v", got, fi.Mode(), err)
	}
	if dir, _ := os.Stat(filepath.Join(c.root, "data/a/conf")); !dir.ModTime().Equal(mtime) || dir.Mode().Perm() != 0o755 {
		t.Fatalf("the directory's mode and time are the archive's: %v %v", dir.Mode(), dir.ModTime())
	}
	if link, _ := os.Readlink(filepath.Join(c.root, "data/a/conf/current")); link != "app.ini" {
		t.Fatalf("the symbolic link: %q", link)
	}
	if _, err := os.Stat(filepath.Join(c.root, "data/a/escape.txt")); err != nil {
		t.Fatalf("an entry naming ../ lands under the destination: %v", err)
	}

	// A file over a directory: replaced, unless noOverwriteDirNonDir (what the docker CLI sends).
	over := func() *bytes.Buffer {
		return tarOf(t, &tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "file"})
	}
	code, msg := archiveExit(c.Put(over(), "/data", ArchiveRequest{NoOverwriteDirNonDir: true}, nil))
	if code != archiveRefused || !strings.Contains(msg, `cannot overwrite directory "/data/a" with non-directory "a"`) {
		t.Fatalf("noOverwriteDirNonDir: exit %d %q", code, msg)
	}
	if err := c.Put(over(), "/data", ArchiveRequest{}, nil); err != nil {
		t.Fatalf("replacing a directory: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(c.root, "data/a")); string(got) != "file" {
		t.Fatalf("the directory was not replaced: %q", got)
	}

	for p, want := range map[string]int{"/etc/hostname": archiveRefused, "/nowhere": archiveNotFound} {
		if code, msg := archiveExit(c.Put(over(), p, ArchiveRequest{}, nil)); code != want {
			t.Errorf("Put into %s: exit %d %q, want %d", p, code, msg, want)
		}
	}
	if code, _ := archiveExit(c.Put(strings.NewReader("not a tar, and long enough to be read as a header block by the reader"+strings.Repeat("x", 600)), "/data", ArchiveRequest{}, nil)); code != archiveRefused {
		t.Errorf("a body that is not a tar: exit %d", code)
	}
}

func TestArchiveRequestParsing(t *testing.T) {
	r, err := ParseExecRequest([]byte(`{"archive":{"op":"get","path":"/etc"}}`))
	if err != nil || r.Archive == nil || r.Archive.Op != "get" {
		t.Fatalf("an archive request needs no command: %+v %v", r, err)
	}
	for _, bad := range []string{`{"archive":{"op":"rm","path":"/"}}`, `{"archive":{"op":"get"}}`} {
		if _, err := ParseExecRequest([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// With one_filesystem a get of a tree stays on its filesystem: a mount inside it (here one inside
// /dev: /dev/pts or /dev/shm) comes as its directory, empty.
func TestGet_GivenOneFilesystem_ThenMountsComeEmpty(t *testing.T) {
	mount := ""
	for _, name := range []string{"shm", "pts"} {
		if deviceOf("/dev/"+name) != deviceOf("/dev") && deviceOf("/dev/"+name) != 0 {
			mount = name
			break
		}
	}
	if mount == "" {
		t.Fatal("no filesystem is mounted on /dev/pts or /dev/shm here: the test needs one to read")
	}
	if mount == "shm" {
		// A file on the tmpfs, which a get without one_filesystem would carry (devpts, a kernel
		// filesystem, comes empty either way).
		f, err := os.CreateTemp("/dev/shm", "vic-one-fs-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		defer os.Remove(f.Name())
		_, all := getArchiveOf(t, containerFS{root: "/"}, "/dev", false)
		if _, ok := all["dev/shm/"+filepath.Base(f.Name())]; !ok {
			t.Fatalf("THEN without one_filesystem /dev/shm's file comes")
		}
	}
	_, entries := getArchiveOf(t, containerFS{root: "/"}, "/dev", true)
	var under []string
	for name := range entries {
		if strings.HasPrefix(name, "dev/"+mount+"/") {
			under = append(under, name)
		}
	}
	if len(under) != 1 || under[0] != "dev/"+mount+"/" {
		t.Errorf("THEN /dev/%s comes as its directory alone with one_filesystem, got %v", mount, under)
	}
}

func TestArchivePut_GivenACompressedTar_ThenItIsReadAsDockerdReadsIt(t *testing.T) {
	c := testContainerFS(t)
	plain := tarOf(t, &tar.Header{Name: "gz.txt", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "from gzip\n"})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(plain.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(&gz, "/data", ArchiveRequest{}, nil); err != nil {
		t.Fatalf("Put of a gzip-compressed tar: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(c.root, "data/gz.txt")); string(got) != "from gzip\n" {
		t.Fatalf("the file of the gzip-compressed tar: %q", got)
	}
	// Formats dockerd reads that the guest cannot: refused by name.
	for name, head := range map[string][]byte{"xz": {0xfd, '7', 'z', 'X', 'Z', 0x00, 1, 2}, "zstd": {0x28, 0xb5, 0x2f, 0xfd, 0, 0}} {
		code, msg := archiveExit(c.Put(bytes.NewReader(head), "/data", ArchiveRequest{}, nil))
		if code != archiveRefused || !strings.Contains(msg, name+"-compressed") || !strings.Contains(msg, "gzip or bzip2") {
			t.Errorf("a %s archive: exit %d %q", name, code, msg)
		}
	}
	// An empty body is an empty archive, as before.
	if err := c.Put(bytes.NewReader(nil), "/data", ArchiveRequest{}, nil); err != nil {
		t.Errorf("an empty body: %v", err)
	}
}
