package main

import (
	"syscall"
	"testing"
)

func TestParseSignalLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want syscall.Signal
		stop bool
		ok   bool
	}{
		{"vic-signal 15", syscall.SIGTERM, false, true},
		{"vic-signal 10\r", syscall.SIGUSR1, false, true},
		{"  vic-signal 9  ", syscall.SIGKILL, false, true},
		{"vic-signal 15 stop", syscall.SIGTERM, true, true},
		{"vic-signal 0", 0, false, false},
		{"vic-signal 65", 0, false, false},
		{"vic-signal TERM", 0, false, false},
		{"vic-status status=running", 0, false, false},
		{"vic-signal 15 16", 0, false, false},
		{"vic-signal 15 stop now", 0, false, false},
		{"", 0, false, false},
	} {
		got, stop, ok := ParseSignalLine(c.line)
		if got != c.want || stop != c.stop || ok != c.ok {
			t.Errorf("ParseSignalLine(%q) = %v, %v, %v; want %v, %v, %v", c.line, got, stop, ok, c.want, c.stop, c.ok)
		}
	}
}

func TestStopRequest_GivenAStop_ThenAskedAndDoneOnce(t *testing.T) {
	s := newStopRequest()
	if s.asked() {
		t.Fatal("THEN not asked before a stop")
	}
	s.set()
	s.set()
	select {
	case <-s.done():
	default:
		t.Fatal("THEN done is closed")
	}
	if !s.asked() {
		t.Fatal("THEN asked")
	}
}
