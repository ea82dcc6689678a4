package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestCopyTreeKeepsTypesModesAndTimes(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "conf", "sub"), 0o750))
	must(os.WriteFile(filepath.Join(src, "conf", "app.ini"), []byte("port=80\n"), 0o640))
	must(os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Symlink("conf/app.ini", filepath.Join(src, "current")))
	must(syscall.Mkfifo(filepath.Join(src, "pipe"), 0o600))
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	must(os.Chtimes(filepath.Join(src, "conf", "app.ini"), old, old))
	must(os.Chmod(src, os.ModeSticky|0o777))

	n, err := copyTree(src, dst)
	must(err)
	if n != 6 {
		t.Errorf("copied %d entries, want 6 (conf, conf/sub, conf/app.ini, run.sh, current, pipe)", n)
	}
	data, err := os.ReadFile(filepath.Join(dst, "conf", "app.ini"))
	if err != nil || string(data) != "port=80\n" {
		t.Errorf("conf/app.ini = %q, %v", data, err)
	}
	for path, want := range map[string]os.FileMode{"conf": os.ModeDir | 0o750, "conf/app.ini": 0o640, "run.sh": 0o755, ".": os.ModeDir | os.ModeSticky | 0o777} {
		info, err := os.Lstat(filepath.Join(dst, path))
		if err != nil || info.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, info.Mode(), err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dst, "current")); err != nil || target != "conf/app.ini" {
		t.Errorf("current -> %q, %v", target, err)
	}
	if info, err := os.Lstat(filepath.Join(dst, "pipe")); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("pipe is not a FIFO: %v", err)
	}
	if info, _ := os.Stat(filepath.Join(dst, "conf", "app.ini")); !info.ModTime().Equal(old) {
		t.Errorf("conf/app.ini modified %v, want %v", info.ModTime(), old)
	}
}

func TestVolumeIsEmptyIgnoresLostAndFound(t *testing.T) {
	dir := t.TempDir()
	if empty, err := volumeIsEmpty(dir); err != nil || !empty {
		t.Fatalf("a new directory: empty=%v err=%v", empty, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	if empty, _ := volumeIsEmpty(dir); !empty {
		t.Error("lost+found alone: not empty")
	}
	if dirHasEntries(filepath.Join(dir, "missing")) {
		t.Error("a missing directory has entries")
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if empty, _ := volumeIsEmpty(dir); empty {
		t.Error("a file: still empty")
	}
	if !dirHasEntries(dir) {
		t.Error("a directory with a file has no entries")
	}
}

func TestDropEmptyLostAndFound(t *testing.T) {
	root := t.TempDir()
	lost := filepath.Join(root, "lost+found")
	if err := os.Mkdir(lost, 0o700); err != nil {
		t.Fatal(err)
	}
	// Not empty: kept.
	if err := os.WriteFile(filepath.Join(lost, "#12"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dropEmptyLostAndFound(root)
	if _, err := os.Stat(lost); err != nil {
		t.Fatalf("a lost+found with a file was removed: %v", err)
	}
	// Empty, and beside data: kept.
	if err := os.Remove(filepath.Join(lost, "#12")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dropEmptyLostAndFound(root)
	if _, err := os.Stat(lost); err != nil {
		t.Fatalf("lost+found beside data was removed: %v", err)
	}
	// Empty and alone: removed.
	if err := os.Remove(filepath.Join(root, "data")); err != nil {
		t.Fatal(err)
	}
	dropEmptyLostAndFound(root)
	if _, err := os.Stat(lost); !os.IsNotExist(err) {
		t.Fatalf("an empty lost+found alone is still there: %v", err)
	}
}
