package main

import (
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// runWithStdio starts sh -c script on the stdio openStdio made, as runOnce does, and returns
// what each output stream carried once the process ended, and how long it ran.
func runWithStdio(t *testing.T, cfg Config, script string, endInput time.Duration) ([]string, time.Duration) {
	t.Helper()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	stdio, err := openStdio(cfg, devNull)
	if err != nil {
		t.Fatalf("openStdio: %v", err)
	}
	read := make([]chan string, len(stdio.outputs))
	for i, o := range stdio.outputs {
		read[i] = make(chan string, 1)
		go func(r *os.File, out chan<- string) {
			b, _ := io.ReadAll(r)
			r.Close()
			out <- string(b)
		}(o.r, read[i])
	}
	started := time.Now()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{
		Env:   []string{"PATH=/usr/bin:/bin"},
		Files: stdio.files,
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: stdio.terminal},
	})
	stdio.started()
	if err != nil {
		t.Fatalf("starting sh: %v", err)
	}
	if endInput > 0 {
		time.AfterFunc(endInput, stdio.ended)
	}
	var status syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &status, 0, nil); err != nil {
		t.Fatal(err)
	}
	ran := time.Since(started)
	stdio.ended()
	out := make([]string, len(read))
	for i := range read {
		select {
		case out[i] = <-read[i]:
		case <-time.After(10 * time.Second):
			t.Fatalf("output stream %d never ended", i)
		}
	}
	return out, ran
}

func TestOpenStdio_GivenTty_ThenOneTerminalIsStdinStdoutStderrAndTheControllingTerminal(t *testing.T) {
	out, _ := runWithStdio(t, Config{Tty: true}, `test -t 0 && test -t 1 && test -t 2 && echo all-terminals; echo oops >&2; stty size; tty >/dev/null && echo has-tty; exec 0<&-; : </dev/tty && echo controlling`, 0)
	if len(out) != 1 {
		t.Fatalf("THEN one output stream (the terminal's), got %d", len(out))
	}
	want := "all-terminals\r\noops\r\n24 80\r\nhas-tty\r\ncontrolling\r\n"
	if out[0] != want {
		t.Errorf("THEN the terminal carried %q, got %q", want, out[0])
	}
}

func TestOpenStdio_GivenOpenStdin_ThenStdinStaysOpenUntilTheTetherClosesIt(t *testing.T) {
	out, ran := runWithStdio(t, Config{OpenStdin: true}, `cat; echo "stdin ended"; echo err >&2`, 300*time.Millisecond)
	if len(out) != 2 || out[0] != "stdin ended\n" || out[1] != "err\n" {
		t.Fatalf("THEN stdout and stderr apart, got %q", out)
	}
	if ran < 300*time.Millisecond {
		t.Errorf("THEN cat waits on the open stdin until it is closed (300 ms), it ended after %s", ran)
	}
}

func TestOpenStdio_GivenNeither_ThenStdinIsAtEndOfFile(t *testing.T) {
	out, ran := runWithStdio(t, Config{}, `cat; echo "stdin ended"; test -t 0 || echo "no terminal"`, 0)
	if len(out) != 2 || !strings.HasPrefix(out[0], "stdin ended\nno terminal\n") {
		t.Fatalf("THEN cat ends at once on /dev/null, got %q", out)
	}
	if ran > 5*time.Second {
		t.Errorf("THEN at once, took %s", ran)
	}
}

// A resize that comes before the process starts waits for its terminal, in order with its input;
// a process without a terminal ignores it.
func TestInputRouter_GivenResize_ThenTheTerminalTakesTheSize(t *testing.T) {
	master, slave, err := openPty()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	sizeOf := func() TerminalSize {
		var ws struct{ rows, cols, x, y uint16 }
		if err := ioctl(slave, syscall.TIOCGWINSZ, unsafe.Pointer(&ws)); err != nil {
			t.Fatal(err)
		}
		return TerminalSize{Rows: ws.rows, Cols: ws.cols}
	}
	if got := sizeOf(); got != (TerminalSize{Rows: 24, Cols: 80}) {
		t.Fatalf("a new terminal is %+v, want 24x80", got)
	}
	router := newInputRouter()
	defer router.stop()
	router.push(inputItem{size: &TerminalSize{Rows: 40, Cols: 132}})
	router.attach(master, true)
	deadline := time.Now().Add(5 * time.Second)
	for sizeOf() != (TerminalSize{Rows: 40, Cols: 132}) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal is %+v, want 40x132", sizeOf())
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	router.detach()
	router.attach(w, false)
	router.push(inputItem{size: &TerminalSize{Rows: 10, Cols: 10}})
	router.push(inputItem{data: []byte("after\n")})
	buf := make([]byte, 6)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "after\n" {
		t.Fatalf("a pipe got %q (%v): the resize must write nothing", buf, err)
	}
	w.Close()
}
