package main

import (
	"strings"
	"testing"
	"time"
)

func TestCopyFramed_GivenLinesAndAnUnterminatedLast_ThenEveryLineIsFramed(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var got []string
	err := CopyFramed(strings.NewReader("one\r\ntwo\n\nlast without newline"), stdoutFrame, func(b []byte) { got = append(got, string(b)) }, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"vic-stdout 2026-01-02T03:04:05.000000006Z one\n",
		"vic-stdout 2026-01-02T03:04:05.000000006Z two\n",
		"vic-stdout 2026-01-02T03:04:05.000000006Z \n",
		"vic-stdout 2026-01-02T03:04:05.000000006Z last without newline\n",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("frames:\n%q\nwant\n%q", got, want)
	}
}

func TestCopyFramed_GivenAnOverlongLine_ThenItIsCutIntoBoundedFrames(t *testing.T) {
	long := strings.Repeat("x", maxFrameText*2+10)
	var sizes []int
	_ = CopyFramed(strings.NewReader(long+"\n"), stderrFrame, func(b []byte) {
		parts := strings.SplitN(strings.TrimSuffix(string(b), "\n"), " ", 3)
		sizes = append(sizes, len(parts[2]))
	}, time.Now)
	if len(sizes) != 3 || sizes[0] != maxFrameText || sizes[1] != maxFrameText || sizes[2] != 10 {
		t.Errorf("frame text sizes %v, want [%d %d 10]", sizes, maxFrameText, maxFrameText)
	}
}
