package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// consolePrefix marks the tether's own lines on the serial console; everything else there is
// the kernel's or framed container output (docs/guest-config.md, "Console protocol").
const consolePrefix = "vic-tether: "

// Frame prefixes of the container's output on the console. Each frame is one line:
// "<prefix> <RFC 3339 time, UTC, nanoseconds> <text>". Readers (vic logs, the Docker endpoint)
// keep the two streams apart by the prefix and drop everything that is not framed.
const (
	stdoutFrame = "vic-stdout"
	stderrFrame = "vic-stderr"
	// exactSuffix marks a frame whose text is base64 of the exact bytes the process wrote
	// ("vic-stdout64"): anything a plain frame cannot carry as it is (see plainLine).
	exactSuffix = "64"
	// A longer line is cut into frames of this size, so one chatty process cannot make the
	// tether buffer without bound.
	maxFrameText = 16 * 1024
)

// consoleMu keeps every console write whole: the tether's lines and the two output copiers
// write from different goroutines, and a frame split by another write would be unreadable.
var consoleMu sync.Mutex

func writeConsole(line []byte) {
	consoleMu.Lock()
	defer consoleMu.Unlock()
	_, _ = os.Stdout.Write(line)
}

func logf(format string, args ...any) {
	writeConsole([]byte(fmt.Sprintf(consolePrefix+format+"\n", args...)))
}

// FrameLine renders one line of container output as a console frame.
func FrameLine(prefix string, at time.Time, text []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(prefix) + 32 + len(text) + 2)
	b.WriteString(prefix)
	b.WriteByte(' ')
	b.WriteString(at.UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.Write(text)
	b.WriteByte('\n')
	return b.Bytes()
}

// plainLine tells a line a plain frame carries exactly: the reader adds the newline back, so the
// text must be valid UTF-8 with no control character but tab (a carriage return, a NUL, an escape
// sequence would be lost or break the console's lines).
func plainLine(text []byte) bool {
	if !utf8.Valid(text) {
		return false
	}
	for _, c := range text {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// exactFrame renders bytes of the container's output that a plain frame cannot carry: their
// base64, under the stream's prefix with exactSuffix. The reader writes them back as they were,
// with no newline added.
func exactFrame(prefix string, at time.Time, data []byte) []byte {
	return FrameLine(prefix+exactSuffix, at, []byte(base64.StdEncoding.EncodeToString(data)))
}

// CopyFramed reads a stream of the container's output until EOF and writes it as frames that
// give back exactly the bytes written: each line ending in a newline as a plain frame when
// plainLine allows it, everything else (other lines, a line cut at maxFrameText, a last line
// without a newline) as an exact frame. Output printed just before the process exits is never
// dropped, and a line without its newline yet (a shell's prompt, a progress bar) goes as an exact
// frame once nothing more came for partialFlushAfter: who is attached sees it, rather than only
// after the next newline.
func CopyFramed(r io.Reader, prefix string, write func([]byte), now func() time.Time) error {
	type chunk struct {
		data []byte
		err  error
	}
	chunks := make(chan chunk)
	go func() {
		for {
			b := make([]byte, 4096)
			n, err := r.Read(b)
			chunks <- chunk{b[:n], err}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 0, 4096)
	var idle <-chan time.Time
	for {
		select {
		case c := <-chunks:
			buf = writeLines(append(buf, c.data...), prefix, write, now)
			if c.err != nil {
				if len(buf) > 0 {
					write(exactFrame(prefix, now(), buf))
				}
				if c.err == io.EOF {
					return nil
				}
				return c.err
			}
			idle = nil
			if len(buf) > 0 {
				idle = time.After(partialFlushAfter)
			}
		case <-idle:
			write(exactFrame(prefix, now(), buf))
			buf, idle = buf[:0], nil
		}
	}
}

// partialFlushAfter is how long a line without its newline waits for the rest before it goes.
const partialFlushAfter = 50 * time.Millisecond

// writeLines frames the complete lines at the start of buf (and cuts over-long ones), and gives
// back what is left: the start of a line.
func writeLines(buf []byte, prefix string, write func([]byte), now func() time.Time) []byte {
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 && len(buf) < maxFrameText {
			return buf
		}
		if i >= 0 && i <= maxFrameText && plainLine(buf[:i]) {
			write(FrameLine(prefix, now(), buf[:i]))
		} else {
			next := i + 1
			if i < 0 || i > maxFrameText {
				next = maxFrameText
			}
			write(exactFrame(prefix, now(), buf[:next]))
			i = next - 1
		}
		buf = buf[i+1:]
	}
}
