package main

import (
	"syscall"
	"testing"
)

func TestParseSignalLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want syscall.Signal
		ok   bool
	}{
		{"vic-signal 15", syscall.SIGTERM, true},
		{"vic-signal 10\r", syscall.SIGUSR1, true},
		{"  vic-signal 9  ", syscall.SIGKILL, true},
		{"vic-signal 0", 0, false},
		{"vic-signal 65", 0, false},
		{"vic-signal TERM", 0, false},
		{"vic-status status=running", 0, false},
		{"vic-signal 15 16", 0, false},
		{"", 0, false},
	} {
		got, ok := ParseSignalLine(c.line)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseSignalLine(%q) = %v, %v; want %v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}
