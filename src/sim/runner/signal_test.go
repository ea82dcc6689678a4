package runner

import "testing"

func TestParseSignalRequest(t *testing.T) {
	for _, c := range []struct {
		value    string
		sequence string
		number   int
		ok       bool
	}{
		{"lq3k.ab12cd 15", "lq3k.ab12cd", 15, true},
		{"1 10", "1", 10, true},
		{"1 0", "", 0, false},
		{"1 65", "", 0, false},
		{"1 TERM", "", 0, false},
		{"15", "", 0, false},
		{"", "", 0, false},
	} {
		sequence, number, ok := parseSignalRequest(c.value)
		if sequence != c.sequence || number != c.number || ok != c.ok {
			t.Errorf("parseSignalRequest(%q) = %q, %d, %v; want %q, %d, %v", c.value, sequence, number, ok, c.sequence, c.number, c.ok)
		}
	}
}
