package main

import (
	"bytes"
	"sort"
	"sync"
	"time"
)

// callStats counts SOAP calls per method at the simulator, so a benchmark sees every round trip,
// including those of a provider that runs as Terraform's child process, where no client-side
// counter can reach.
type callStats struct {
	mu     sync.Mutex
	since  time.Time
	calls  map[string]int64
	nanos  map[string]int64
	others int64
}

// statsReport is the JSON of GET /vcsim-control/stats.
type statsReport struct {
	Since time.Time `json:"since"`
	// Total SOAP calls, the sum of Calls.
	Total int64 `json:"total"`
	// Calls per SOAP method name, e.g. "RetrievePropertiesEx".
	Calls map[string]int64 `json:"calls"`
	// Milliseconds the server spent answering, per method (a long poll counts its whole wait).
	ServerMs map[string]float64 `json:"serverMs"`
	// HTTP requests that are not SOAP calls (datastore /folder transfers), counted but not named.
	OtherHTTP int64 `json:"otherHttp"`
}

func newCallStats() *callStats {
	return &callStats{since: time.Now(), calls: map[string]int64{}, nanos: map[string]int64{}}
}

func (s *callStats) recordSOAP(method string, took time.Duration) {
	if method == "" {
		method = "(unreadable)"
	}
	s.mu.Lock()
	s.calls[method]++
	s.nanos[method] += took.Nanoseconds()
	s.mu.Unlock()
}

func (s *callStats) recordOther() {
	s.mu.Lock()
	s.others++
	s.mu.Unlock()
}

func (s *callStats) report() statsReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reportLocked()
}

// reset starts a new count and returns the one it ends, so no call falls between a read and a reset.
func (s *callStats) reset() statsReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	ended := s.reportLocked()
	s.since = time.Now()
	s.calls = map[string]int64{}
	s.nanos = map[string]int64{}
	s.others = 0
	return ended
}

func (s *callStats) reportLocked() statsReport {
	out := statsReport{Since: s.since, Calls: make(map[string]int64, len(s.calls)), ServerMs: make(map[string]float64, len(s.nanos)), OtherHTTP: s.others}
	names := make([]string, 0, len(s.calls))
	for name := range s.calls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out.Calls[name] = s.calls[name]
		out.Total += s.calls[name]
		out.ServerMs[name] = float64(s.nanos[name]/1000) / 1000
	}
	return out
}

// soapMethodName finds the first element inside the SOAP Body, e.g. "RetrievePropertiesEx" in
// <soapenv:Body><RetrievePropertiesEx xmlns="urn:vim25">. A byte scan, not an XML decode: it runs
// on every call, and the simulator decodes the body properly right after.
func soapMethodName(body []byte) string {
	at := bodyElementEnd(body)
	if at < 0 {
		return ""
	}
	rest := body[at:]
	for {
		open := bytes.IndexByte(rest, '<')
		if open < 0 || open+1 >= len(rest) {
			return ""
		}
		rest = rest[open+1:]
		// skip comments and processing instructions between Body and the method
		if rest[0] == '!' || rest[0] == '?' {
			continue
		}
		if rest[0] == '/' {
			return "" // an empty Body
		}
		end := bytes.IndexAny(rest, " \t\r\n/>")
		if end <= 0 {
			return ""
		}
		name := rest[:end]
		if colon := bytes.LastIndexByte(name, ':'); colon >= 0 {
			name = name[colon+1:]
		}
		return string(name)
	}
}

// bodyElementEnd is the index just past the ">" of the <Body> start tag, with any prefix, or -1.
func bodyElementEnd(body []byte) int {
	for offset := 0; ; {
		i := bytes.Index(body[offset:], []byte("Body"))
		if i < 0 {
			return -1
		}
		i += offset
		offset = i + len("Body")
		if i == 0 || offset >= len(body) {
			continue
		}
		before, after := body[i-1], body[offset]
		if (before != '<' && before != ':') || (after != '>' && after != ' ' && after != '\t' && after != '\r' && after != '\n') {
			continue
		}
		if before == ':' {
			// the prefix must follow "<" directly: "<soapenv:Body", not "</soapenv:Body"
			start := bytes.LastIndexByte(body[:i], '<')
			if start < 0 || body[start+1] == '/' || bytes.ContainsAny(body[start+1:i-1], " \t\r\n>") {
				continue
			}
		}
		closing := bytes.IndexByte(body[offset:], '>')
		if closing < 0 {
			return -1
		}
		return offset + closing + 1
	}
}
