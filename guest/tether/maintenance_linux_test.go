package main

import (
	"bufio"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"
)

// consoleLines runs fn with the console (the tether's stdout) captured, and gives back its lines.
func consoleLines(t *testing.T, fn func()) []string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	fn()
	os.Stdout = saved
	w.Close()
	var lines []string
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	r.Close()
	return lines
}

// frameText is the text of the first console frame with prefix ("" when there is none).
func frameText(lines []string, prefix string) string {
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			_, text, _ := strings.Cut(rest, " ")
			return text
		}
	}
	return ""
}

func TestStatusLine_GivenMaintenanceReady_ThenOneLineWithNoneOfTheContainersKeys(t *testing.T) {
	if got := statusLine(MaintenanceReadyFields()); got != "vic-status exec=serial maintenance=ready\n" {
		t.Fatalf("THEN the runner's line, got %q", got)
	}
}

func TestRequestsMaintenance_GivenAnyConfig_ThenOnlyTheFieldCounts(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"version":1,"maintenance":true}`:                true,
		`{"version":"one","cmd":"sh","maintenance":true}`: true,
		`{"version":1,"maintenance":false}`:               false,
		`{"version":1}`:                                   false,
		`{"maintenance":"yes"}`:                           false,
		`not json`:                                        false,
	} {
		if got := RequestsMaintenance([]byte(raw)); got != want {
			t.Errorf("RequestsMaintenance(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestServedInMaintenance_GivenEachKindOfRequest_ThenOnlyDockerCpAndDiff(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"archive":{"op":"stat","path":"/etc"}}`: true,
		`{"archive":{"op":"put","path":"/"}}`:     true,
		`{"files":true}`:                          true,
		`{"argv":["sh"]}`:                         false,
		`{"processes":true}`:                      false,
	} {
		r, err := ParseExecRequest([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if r.ServedInMaintenance() != want {
			t.Errorf("ServedInMaintenance(%s) = %v, want %v", raw, !want, want)
		}
	}
}

// In a maintenance boot a process or docker top is refused, with 126 and the reason; docker cp runs.
func TestExecSessions_GivenAMaintenanceBoot_ThenOnlyArchiveRequestsRun(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	e := newExecSessions(Config{WorkingDir: "/"}, devNull)
	e.maintenance = true
	for id, raw := range map[string]string{"0a": `{"argv":["sh","-c","touch /tmp/ran"]}`, "0b": `{"processes":true}`} {
		input := newInputRouter()
		lines := consoleLines(t, func() { e.run(id, []byte(raw), input) })
		input.stop()
		if got := frameText(lines, "vic-exec-"+id+"-stderr"); got != maintenanceRefusal {
			t.Errorf("GIVEN %s THEN the refusal on stderr, got %q in %q", raw, got, lines)
		}
		if got := frameText(lines, "vic-exec-"+id+"-exit"); got != "126" {
			t.Errorf("GIVEN %s THEN exit 126, got %q", raw, got)
		}
	}
	dir := t.TempDir()
	input := newInputRouter()
	lines := consoleLines(t, func() { e.run("0c", []byte(`{"archive":{"op":"stat","path":"`+dir+`"}}`), input) })
	input.stop()
	if got := frameText(lines, "vic-exec-0c-exit"); got != "0" {
		t.Fatalf("GIVEN docker cp's stat THEN it runs, got exit %q in %q", got, lines)
	}
	stat, _ := base64.StdEncoding.DecodeString(frameText(lines, "vic-exec-0c-stdout64"))
	if !strings.Contains(string(stat), `"name":"`) {
		t.Errorf("THEN the stat on stdout, got %q", stat)
	}
}

// Once the boot ends, a request that comes is refused at once; one under way is waited for.
func TestExecSessions_GivenTheEnd_ThenNewRequestsAreRefusedAndBusyOnesWaitedFor(t *testing.T) {
	e := newExecSessions(Config{}, nil)
	e.maintenance = true
	e.busy = 1
	go func() {
		time.Sleep(100 * time.Millisecond)
		e.mu.Lock()
		e.busy--
		e.mu.Unlock()
	}()
	if busy := e.waitIdle(5 * time.Second); busy != 0 {
		t.Fatalf("THEN the operation under way is waited for, got %d busy", busy)
	}
	e.close()
	lines := consoleLines(t, func() {
		e.handle(InMessage{Kind: "exec", ID: "0d", Data: []byte(`{"archive":{"op":"stat","path":"/"}}`)})
	})
	if got := frameText(lines, "vic-exec-0d-exit"); got != "126" {
		t.Fatalf("THEN refused with 126, got %q in %q", got, lines)
	}
	e.busy = 1
	if busy := e.waitIdle(100 * time.Millisecond); busy != 1 {
		t.Fatalf("THEN the wait is bounded, got %d busy", busy)
	}
}
