package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docker top's list, read from this machine's /proc: this test's own process is there with ps -ef's
// columns; PID 1 and the kernel's threads are not.
func TestListProcesses(t *testing.T) {
	list, err := ListProcesses("/proc", map[uint32]string{uint32(os.Getuid()): "me"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(list.Titles, " ") != "UID PID PPID C STIME TTY TIME CMD" {
		t.Fatalf("titles %v", list.Titles)
	}
	self := strconv.Itoa(os.Getpid())
	found := false
	for _, p := range list.Processes {
		if len(p) != 8 {
			t.Fatalf("a row of %d columns: %v", len(p), p)
		}
		if p[1] == "1" || p[2] == "2" || p[1] == "2" {
			t.Errorf("PID 1 or a kernel thread listed: %v", p)
		}
		if p[1] == self {
			found = true
			if p[0] != "me" || p[2] != strconv.Itoa(os.Getppid()) || !strings.Contains(p[7], "tether.test") {
				t.Errorf("this process's row: %v", p)
			}
		}
	}
	if !found {
		t.Fatalf("this process (%s) is not listed: %v", self, list.Processes)
	}
}

func TestTtyName(t *testing.T) {
	for nr, want := range map[int]string{0: "?", 136<<8 | 3: "pts/3", 4<<8 | 65: "ttyS1", 4<<8 | 1: "tty1"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%d) = %q, want %q", nr, got, want)
		}
	}
}
