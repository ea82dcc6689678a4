package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookPathIn_GivenTheContainersPATH(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"bin", "opt/app", "data"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(root, path), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/tool", 0o755)
	write("opt/app/run", 0o755)
	write("bin/notexec", 0o644)
	write("data/local", 0o755)
	path := "PATH=" + filepath.Join(root, "opt/app") + ":" + filepath.Join(root, "bin")

	cases := []struct {
		name, program, want, wantErr string
	}{
		{"found in the second PATH entry", "tool", filepath.Join(root, "bin/tool"), ""},
		{"found in the first PATH entry", "run", filepath.Join(root, "opt/app/run"), ""},
		{"absolute path", filepath.Join(root, "bin/tool"), filepath.Join(root, "bin/tool"), ""},
		{"relative to the working dir", "./local", filepath.Join(root, "data/local"), ""},
		{"missing", "nope", "", "executable file not found in $PATH (none of the 2 directories of the container's PATH holds it)"},
		{"not executable is skipped in PATH", "notexec", "", "executable file not found in $PATH (none of the 2 directories of the container's PATH holds it)"},
		{"not executable by path", filepath.Join(root, "bin/notexec"), "", "is not executable"},
		{"a directory", filepath.Join(root, "bin"), "", "is a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lookPathIn(tc.program, []string{path}, filepath.Join(root, "data"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("THEN an error containing %q, got %q, %v", tc.wantErr, got, err)
				}
				// The error reaches the serial console: it must not echo the PATH value (env may be secret).
				if strings.HasPrefix(tc.wantErr, "executable file not found") && strings.Contains(err.Error(), filepath.Join(root, "opt/app")) {
					t.Fatalf("THEN the PATH value stays out of the error, got %v", err)
				}
				// errCannotExecute selects exit status 126 (found, not runnable) over 127 (not found).
				if foundButNotRunnable := !strings.HasPrefix(tc.wantErr, "executable file not found"); errors.Is(err, errCannotExecute) != foundButNotRunnable {
					t.Fatalf("THEN errors.Is(err, errCannotExecute) == %v, got %v", foundButNotRunnable, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("THEN %s, got %q, %v", tc.want, got, err)
			}
		})
	}
}
