package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
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

// CopyFramed reads a stream of the container's output until EOF and writes each line as a
// frame. A last line without a newline is still written once the stream ends: output printed
// just before the process exits is never dropped.
func CopyFramed(r io.Reader, prefix string, write func([]byte), now func() time.Time) error {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 && len(buf) < maxFrameText {
				break
			}
			end, next := i, i+1
			if i < 0 || i > maxFrameText {
				end, next = maxFrameText, maxFrameText
			}
			write(FrameLine(prefix, now(), bytes.TrimSuffix(buf[:end], []byte("\r"))))
			buf = buf[next:]
		}
		if err != nil {
			if len(buf) > 0 {
				write(FrameLine(prefix, now(), buf))
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
