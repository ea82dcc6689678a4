package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"
)

// unframe gives back what a reader makes of frames: plain text plus its newline, exact frames as
// their bytes.
func unframe(t *testing.T, frames []string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, f := range frames {
		parts := strings.SplitN(strings.TrimSuffix(f, "\n"), " ", 3)
		switch parts[0] {
		case stdoutFrame, stderrFrame:
			out.WriteString(parts[2] + "\n")
		case stdoutFrame + exactSuffix, stderrFrame + exactSuffix:
			b, err := base64.StdEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatalf("frame %q: %v", f, err)
			}
			out.Write(b)
		default:
			t.Fatalf("not a frame: %q", f)
		}
	}
	return out.Bytes()
}

func TestCopyFramed_GivenPlainLines_ThenPlainFrames_AndWhatAPlainFrameCannotCarryIsExact(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var got []string
	input := "one\ntab\there\n\ncrlf\r\nbell\x07\nlast without newline"
	err := CopyFramed(strings.NewReader(input), stdoutFrame, func(b []byte) { got = append(got, string(b)) }, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	want := []string{
		"vic-stdout 2026-01-02T03:04:05.000000006Z one\n",
		"vic-stdout 2026-01-02T03:04:05.000000006Z tab\there\n",
		"vic-stdout 2026-01-02T03:04:05.000000006Z \n",
		"vic-stdout64 2026-01-02T03:04:05.000000006Z " + b64("crlf\r\n") + "\n",
		"vic-stdout64 2026-01-02T03:04:05.000000006Z " + b64("bell\x07\n") + "\n",
		"vic-stdout64 2026-01-02T03:04:05.000000006Z " + b64("last without newline") + "\n",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("frames:\n%q\nwant\n%q", got, want)
	}
	if string(unframe(t, got)) != input {
		t.Errorf("THEN the frames give back the input, got %q", unframe(t, got))
	}
}

func TestCopyFramed_GivenBinaryOutput_ThenTheFramesGiveBackEveryByte(t *testing.T) {
	var input []byte
	for i := 0; i < 3*maxFrameText; i++ {
		input = append(input, byte(i*7+i/256))
	}
	var got []string
	if err := CopyFramed(bytes.NewReader(input), stdoutFrame, func(b []byte) { got = append(got, string(b)) }, time.Now); err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if strings.Count(f, "\n") != 1 || !strings.HasSuffix(f, "\n") {
			t.Fatalf("THEN each frame is one console line, got %q", f)
		}
	}
	if !bytes.Equal(unframe(t, got), input) {
		t.Errorf("THEN the frames give back the %d bytes exactly", len(input))
	}
}

func TestCopyFramed_GivenAnOverlongLine_ThenItIsCutIntoBoundedFrames(t *testing.T) {
	long := strings.Repeat("x", maxFrameText*2+10) + "\n"
	var got []string
	_ = CopyFramed(strings.NewReader(long), stderrFrame, func(b []byte) { got = append(got, string(b)) }, time.Now)
	var sizes []int
	for _, f := range got {
		sizes = append(sizes, len(unframe(t, []string{f})))
	}
	// Two cuts of the line as exact frames (no newline after them), the rest a plain line.
	if len(sizes) != 3 || sizes[0] != maxFrameText || sizes[1] != maxFrameText || sizes[2] != 11 || !strings.HasPrefix(got[2], stderrFrame+" ") {
		t.Errorf("frame sizes %v (last %q), want [%d %d 11], the last plain", sizes, got[len(got)-1], maxFrameText, maxFrameText)
	}
	if string(unframe(t, got)) != long {
		t.Error("THEN the frames give back the line")
	}
}

// A prompt (a line without its newline) goes once nothing more comes for a moment, while the
// stream stays open: who is attached sees it before the user types anything.
func TestCopyFramed_GivenAPromptWithoutNewline_ThenItGoesWhileTheStreamStaysOpen(t *testing.T) {
	r, w := io.Pipe()
	frames := make(chan string, 4)
	done := make(chan error, 1)
	go func() { done <- CopyFramed(r, stdoutFrame, func(b []byte) { frames <- string(b) }, time.Now) }()
	if _, err := w.Write([]byte("/ # ")); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-frames:
		if got := string(unframe(t, []string{f})); got != "/ # " {
			t.Fatalf("the prompt's frame gives %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the prompt was not framed while the stream stayed open")
	}
	_, _ = w.Write([]byte("ls\n"))
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := string(unframe(t, []string{<-frames})); got != "ls\n" {
		t.Fatalf("the next line's frame gives %q", got)
	}
}
