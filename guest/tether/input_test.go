package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseInLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want InMessage
		ok   bool
	}{
		{"vic-in data:aGVsbG8K", InMessage{Kind: "data", Data: []byte("hello\n")}, true},
		{"vic-in data:aGVsbG8K\r", InMessage{Kind: "data", Data: []byte("hello\n")}, true},
		{"vic-in eof", InMessage{Kind: "eof"}, true},
		{"vic-in exec:0a1b:eyJhcmd2IjpbImxzIl19", InMessage{Kind: "exec", ID: "0a1b", Data: []byte(`{"argv":["ls"]}`)}, true},
		{"vic-in exec-data:0a1b:aGk=", InMessage{Kind: "exec-data", ID: "0a1b", Data: []byte("hi")}, true},
		{"vic-in exec-eof:0a1b", InMessage{Kind: "exec-eof", ID: "0a1b"}, true},
		{"vic-in exec-eof:0A1B", InMessage{}, false},
		{"vic-in exec:../x:aGk=", InMessage{}, false},
		{"vic-in eof:x", InMessage{Kind: "eof"}, false},
		{"vic-in data:", InMessage{}, false},
		{"vic-in data:!!", InMessage{}, false},
		{"vic-in start:aGk=", InMessage{}, false},
		{"vic-signal 15", InMessage{}, false},
		{"vic-in resize:40x132", InMessage{Kind: "resize", Size: TerminalSize{Rows: 40, Cols: 132}}, true},
		{"vic-in exec-resize:0a1b:50x200", InMessage{Kind: "exec-resize", ID: "0a1b", Size: TerminalSize{Rows: 50, Cols: 200}}, true},
		{"vic-in resize:0x80", InMessage{}, false},
		{"vic-in resize:24x70000", InMessage{}, false},
		{"vic-in resize:24", InMessage{}, false},
		{"vic-in exec-resize:0A:24x80", InMessage{}, false},
	} {
		got, ok := ParseInLine(c.line)
		if ok != c.ok || (ok && (got.Kind != c.want.Kind || got.ID != c.want.ID || string(got.Data) != string(c.want.Data) || got.Size != c.want.Size)) {
			t.Errorf("ParseInLine(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

// Input that comes before the process starts waits for it; the end of input closes the pipe, so
// the process reads EOF; later input waits for the next process.
func TestInputRouterPipe(t *testing.T) {
	router := newInputRouter()
	router.push(inputItem{data: []byte("hello ")})
	router.push(inputItem{data: []byte("world\n")})
	router.push(inputItem{eof: true})
	router.push(inputItem{data: []byte("next\n")})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	router.attach(w, false)
	got := readAll(t, r)
	if got != "hello world\n" {
		t.Fatalf("the process read %q, want %q", got, "hello world\n")
	}
	router.detach()
	r2, w2, _ := os.Pipe()
	router.attach(w2, false)
	buf := make([]byte, 5)
	if _, err := io.ReadFull(r2, buf); err != nil || string(buf) != "next\n" {
		t.Fatalf("the next process read %q (%v), want %q", buf, err, "next\n")
	}
	w2.Close()
}

// A terminal's input ends as a terminal's does: with the byte Ctrl-D sends, the master kept open.
func TestInputRouterTerminalEOF(t *testing.T) {
	router := newInputRouter()
	r, w, _ := os.Pipe()
	router.attach(w, true)
	router.push(inputItem{data: []byte("ls\n")})
	router.push(inputItem{eof: true})
	buf := make([]byte, 4)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "ls\n\x04" {
		t.Fatalf("the terminal got %q (%v), want %q", buf, err, "ls\n\x04")
	}
	w.Close()
}

func readAll(t *testing.T, r *os.File) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the pipe never reached its end")
		return ""
	}
}

// A line over the bound is read to its end and dropped: the lines after it are read whole.
func TestReadBoundedLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	r := bufio.NewReaderSize(strings.NewReader("vic-signal 15\n"+long+"\nvic-in eof\r\n"), 16)
	if line, err := ReadBoundedLine(r, 100); line != "vic-signal 15" || err != nil {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if _, err := ReadBoundedLine(r, 100); !errors.Is(err, errLineTooLong) {
		t.Fatalf("the long line gave %v, want errLineTooLong", err)
	}
	if line, err := ReadBoundedLine(r, 100); line != "vic-in eof" || err != nil {
		t.Fatalf("the line after it = %q, %v", line, err)
	}
	if _, err := ReadBoundedLine(r, 100); err != io.EOF {
		t.Fatalf("at the end: %v, want EOF", err)
	}
}

// A stopped router takes nothing more, and its goroutine ends.
func TestInputRouterStop(t *testing.T) {
	router := newInputRouter()
	router.stop()
	router.push(inputItem{data: []byte("late")})
	router.stop()
	router.poke()
}
