package runner

import "testing"

func TestParseSignalRequest(t *testing.T) {
	for _, c := range []struct {
		value    string
		sequence string
		number   int
		stop     bool
		ok       bool
	}{
		{"lq3k.ab12cd 15", "lq3k.ab12cd", 15, false, true},
		{"1 10", "1", 10, false, true},
		{"1 15 stop", "1", 15, true, true},
		{"1 15 halt", "", 0, false, false},
		{"1 15 stop now", "", 0, false, false},
		{"1 0", "", 0, false, false},
		{"1 65", "", 0, false, false},
		{"1 TERM", "", 0, false, false},
		{"15", "", 0, false, false},
		{"", "", 0, false, false},
	} {
		sequence, number, stop, ok := parseSignalRequest(c.value)
		if sequence != c.sequence || number != c.number || stop != c.stop || ok != c.ok {
			t.Errorf("parseSignalRequest(%q) = %q, %d, %v, %v; want %q, %d, %v, %v", c.value, sequence, number, stop, ok, c.sequence, c.number, c.stop, c.ok)
		}
	}
	if got := signalLine(15, true); got != "vic-signal 15 stop\n" {
		t.Errorf("THEN a stop's line says so, got %q", got)
	}
	if got := signalLine(10, false); got != "vic-signal 10\n" {
		t.Errorf("THEN another's does not, got %q", got)
	}
}
