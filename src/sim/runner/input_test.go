package runner

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func TestPendingInputInSequenceOrder(t *testing.T) {
	options := []types.BaseOptionValue{
		&types.OptionValue{Key: "guestinfo.vic.stdin.001733000000002.000001", Value: "eof"},
		&types.OptionValue{Key: "guestinfo.vic.status", Value: "running"},
		&types.OptionValue{Key: "guestinfo.vic.stdin.001733000000001.000002", Value: "data:Yg=="},
		&types.OptionValue{Key: "guestinfo.vic.stdin.001733000000001.000001", Value: "data:YQ=="},
	}
	got := pendingInput(options)
	want := []string{"data:YQ==", "data:Yg==", "eof"}
	if len(got) != len(want) {
		t.Fatalf("pendingInput = %v, want values %v", got, want)
	}
	for i := range want {
		if got[i].value != want[i] {
			t.Errorf("chunk %d = %q, want %q", i, got[i].value, want[i])
		}
	}
}

func TestInputLine(t *testing.T) {
	for _, c := range []struct {
		value, line string
		ok          bool
	}{
		{"data:aGVsbG8K", "vic-in data:aGVsbG8K\n", true},
		{"eof", "vic-in eof\n", true},
		{"exec:0a1b:eyJhcmd2IjpbImxzIl19", "vic-in exec:0a1b:eyJhcmd2IjpbImxzIl19\n", true},
		{"", "", false},
		{"data:two words", "", false},
		{"data:a\nvic-signal 9", "", false},
		{"data:" + strings.Repeat("A", maxInputValue), "", false},
	} {
		line, ok := inputLine(c.value)
		if line != c.line || ok != c.ok {
			t.Errorf("inputLine(%q) = %q, %v; want %q, %v", c.value, line, ok, c.line, c.ok)
		}
	}
}

// The channel's lines reach QEMU's stdin in the order they were sent, whatever their size, and
// sending never waits for the reader.
func TestSignalChannelKeepsOrder(t *testing.T) {
	c, cmd, out := channelTo(t, exec.Command("cat"), nil)
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = 'x'
	}
	sent := []string{"vic-in data:" + string(big) + "\n", "vic-in eof\n"}
	for _, l := range sent {
		if !c.sendInput(l) {
			t.Fatal("send refused on an open channel")
		}
	}
	scanner := bufio.NewScanner(out)
	scanner.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for i, l := range sent {
		if !scanner.Scan() {
			t.Fatalf("line %d: %v", i, scanner.Err())
		}
		if scanner.Text()+"\n" != l {
			t.Fatalf("line %d: got %d bytes, want %d", i, len(scanner.Text())+1, len(l))
		}
	}
	c.close()
	if c.sendInput("vic-in eof\n") || c.send("vic-signal 9\n") {
		t.Error("send accepted on a closed channel")
	}
	_ = cmd.Wait()
}

// A signal goes before the messages still queued, and messages are taken only while fewer than
// maxQueuedInput bytes wait: the rest stay with the client, who waits for room (drained).
func TestSignalChannelSignalsFirstAndRoom(t *testing.T) {
	drained := make(chan struct{}, 1)
	c, cmd, out := channelTo(t, exec.Command("sh", "-c", "sleep 0.3; cat"), func() {
		select {
		case drained <- struct{}{}:
		default:
		}
	})
	// The writer takes the first line at once (it may block writing it); the rest queue.
	chunk := "vic-in data:" + strings.Repeat("A", 100*1024) + "\n"
	n := 0
	for c.room() {
		if !c.sendInput(chunk) {
			t.Fatal("sendInput refused on an open channel")
		}
		n++
	}
	if n < 3 || n > 5 {
		t.Fatalf("%d messages of 100 KiB queued before the channel was full, want 3 to 5", n)
	}
	c.send("vic-signal 15\n")
	scanner := bufio.NewScanner(out)
	scanner.Buffer(make([]byte, 0, 1<<20), 1<<20)
	var lines []string
	for len(lines) < n+1 && scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	signalAt := -1
	for i, l := range lines {
		if l == "vic-signal 15" {
			signalAt = i
		}
	}
	if signalAt < 0 || signalAt > 1 {
		t.Fatalf("the signal came as line %d of %d, want before the queued messages (0 or 1)", signalAt, len(lines))
	}
	select {
	case <-drained:
	default:
		t.Error("drained was not told once the queue emptied")
	}
	c.close()
	_ = cmd.Wait()
}

// channelTo opens a channel whose reader is cmd (in QEMU's place), started: the channel, and cmd's stdout.
func channelTo(t *testing.T, cmd *exec.Cmd, drained func()) (*signalChannel, *exec.Cmd, io.Reader) {
	t.Helper()
	c := &signalChannel{}
	if err := c.open(cmd, "", drained); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.started()
	return c, cmd, out
}
