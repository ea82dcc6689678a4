package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// faultRule is one injected behaviour, as POSTed to /vcsim-control/faults.
type faultRule struct {
	ID         int    `json:"id"`
	Method     string `json:"method"`
	This       string `json:"this,omitempty"`
	Kind       string `json:"kind"`
	Fault      string `json:"fault,omitempty"`
	Message    string `json:"message,omitempty"`
	DetailXML  string `json:"detailXml,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	DelayMs    int    `json:"delayMs,omitempty"`
	Times      int    `json:"times"`
	Hits       int    `json:"hits"`
	// Probability and Seed make a rule random: it answers a matching call with this chance,
	// drawn from its own generator, so a seeded run injects the same sequence of draws.
	Probability float64 `json:"probability,omitempty"`
	Seed        int64   `json:"seed,omitempty"`
	// Passed counts matching calls the draw let through to the simulator.
	Passed int `json:"passed,omitempty"`
	draws  *rand.Rand
}

// ruleInput distinguishes "times" left out (once) from any given value.
type ruleInput struct {
	Method      string   `json:"method"`
	This        string   `json:"this"`
	Kind        string   `json:"kind"`
	Fault       string   `json:"fault"`
	Message     string   `json:"message"`
	DetailXML   string   `json:"detailXml"`
	HTTPStatus  int      `json:"httpStatus"`
	DelayMs     int      `json:"delayMs"`
	Times       *int     `json:"times"`
	Probability *float64 `json:"probability"`
	Seed        int64    `json:"seed"`
}

const (
	kindSOAP  = "soap"
	kindTask  = "task"
	kindHTTP  = "http"
	kindDrop  = "drop"
	kindDelay = "delay"
	kindAsync = "async"
	// kindLoseReply lets the simulator act, then closes the connection before the answer: the
	// reply to a create is lost although the object exists (a proxy or network failure).
	kindLoseReply = "lose-reply"

	// httpMethodPrefix names the datastore file transfers (not SOAP) a rule can match, e.g. "HTTP PUT".
	httpMethodPrefix = "HTTP "

	taskSuffix            = "_Task"
	defaultAsyncDelayMs   = 500
	defaultInjectedStatus = 503
)

var vimTypes = types.TypeFunc()

var methodFaultType = reflect.TypeOf((*types.BaseMethodFault)(nil)).Elem()

// newRule checks a rule and fills its defaults; every problem is an error for a 400.
func newRule(in ruleInput) (*faultRule, error) {
	rule := &faultRule{
		Method: in.Method, This: in.This, Kind: in.Kind, Fault: in.Fault, Message: in.Message,
		DetailXML: in.DetailXML, HTTPStatus: in.HTTPStatus, DelayMs: in.DelayMs, Times: 1,
	}
	if rule.Method == "" {
		rule.Method = "*"
	}
	if rule.Kind == "" {
		rule.Kind = kindSOAP
	}
	if in.Times != nil {
		rule.Times = *in.Times
	}
	if rule.Times == 0 || rule.Times < -1 {
		return nil, fmt.Errorf("times %d: want a positive count, or -1 for every call", rule.Times)
	}
	if rule.DelayMs < 0 {
		return nil, fmt.Errorf("delayMs %d: must not be negative", rule.DelayMs)
	}
	if err := rule.setProbability(in.Probability, in.Seed); err != nil {
		return nil, err
	}
	switch rule.Kind {
	case kindSOAP, kindTask:
		if rule.Fault == "" {
			rule.Fault = "SystemError"
		}
		if _, err := buildFault(rule.Fault, rule.DetailXML, rule.Message); err != nil {
			return nil, err
		}
	case kindHTTP:
		if rule.HTTPStatus == 0 {
			rule.HTTPStatus = defaultInjectedStatus
		}
		if rule.HTTPStatus < 100 || rule.HTTPStatus > 599 {
			return nil, fmt.Errorf("httpStatus %d: not an HTTP status", rule.HTTPStatus)
		}
	case kindDelay:
		if rule.DelayMs == 0 {
			return nil, fmt.Errorf("kind delay needs delayMs > 0")
		}
	case kindAsync:
		if rule.DelayMs == 0 {
			rule.DelayMs = defaultAsyncDelayMs
		}
	case kindDrop, kindLoseReply:
	default:
		return nil, fmt.Errorf("kind %q: want one of soap, task, http, drop, lose-reply, delay, async", rule.Kind)
	}
	if strings.HasPrefix(rule.Method, httpMethodPrefix) && rule.Kind != kindHTTP && rule.Kind != kindDrop && rule.Kind != kindLoseReply && rule.Kind != kindDelay {
		return nil, fmt.Errorf("kind %s cannot answer %q (a datastore file transfer, not SOAP): use http, drop, lose-reply or delay", rule.Kind, rule.Method)
	}
	if (rule.Kind == kindTask || rule.Kind == kindAsync) && rule.Method != "*" && !strings.HasSuffix(rule.Method, taskSuffix) {
		return nil, fmt.Errorf("kind %s answers with a task, so method %q must be a *_Task method (or \"*\" for all of them)", rule.Kind, rule.Method)
	}
	return rule, nil
}

// matches says whether the rule applies to a call. Task kinds only ever answer *_Task methods.
func (r *faultRule) matches(method string, this types.ManagedObjectReference) bool {
	if r.Times != -1 && r.Hits >= r.Times {
		return false
	}
	if r.Method != method && (r.Method != "*" || strings.HasPrefix(method, httpMethodPrefix)) {
		return false
	}
	if (r.Kind == kindTask || r.Kind == kindAsync) && !strings.HasSuffix(method, taskSuffix) {
		return false
	}
	return r.This == "" || r.This == this.Value || r.This == this.Type+":"+this.Value
}

// faultRules is the ordered rule list; the first matching rule answers a call.
type faultRules struct {
	mu     sync.Mutex
	rules  []*faultRule
	nextID int
}

func (s *faultRules) add(inputs []ruleInput) ([]faultRule, error) {
	built := make([]*faultRule, 0, len(inputs))
	for i, in := range inputs {
		rule, err := newRule(in)
		if err != nil {
			method := in.Method
			if method == "" {
				method = "*"
			}
			return nil, fmt.Errorf("rules[%d] (method %q): %w", i, method, err)
		}
		built = append(built, rule)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	added := make([]faultRule, 0, len(built))
	for _, rule := range built {
		s.nextID++
		rule.ID = s.nextID
		s.rules = append(s.rules, rule)
		added = append(added, *rule)
	}
	return added, nil
}

// take returns a copy of the first live rule for the call and counts the hit.
func (s *faultRules) take(method string, this types.ManagedObjectReference) (faultRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rule := range s.rules {
		if rule.matches(method, this) && rule.draw() {
			rule.Hits++
			return *rule, true
		}
	}
	return faultRule{}, false
}

func (s *faultRules) list() []faultRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]faultRule, 0, len(s.rules))
	for _, rule := range s.rules {
		out = append(out, *rule)
	}
	return out
}

func (s *faultRules) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

func (s *faultRules) empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rules) == 0
}

// parseRuleInputs accepts one rule object or an array of them.
func parseRuleInputs(body []byte) ([]ruleInput, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var many []ruleInput
		if err := strictJSON(trimmed, &many); err != nil {
			return nil, err
		}
		return many, nil
	}
	var one ruleInput
	if err := strictJSON(trimmed, &one); err != nil {
		return nil, err
	}
	return []ruleInput{one}, nil
}

func strictJSON(data []byte, into any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(into); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return nil
}

// buildFault makes a real vim25 fault value of the named type, with fields from detailXML.
func buildFault(name, detailXML, message string) (types.BaseMethodFault, error) {
	typ, ok := vimTypes(name)
	if !ok {
		typ, ok = vimTypes(strings.TrimSuffix(name, "Fault"))
	}
	if !ok || !reflect.PointerTo(typ).Implements(methodFaultType) {
		return nil, fmt.Errorf("fault %q is not a vim25 fault type (e.g. InvalidState, NotFound, SystemError)", name)
	}
	value := reflect.New(typ)
	if detailXML != "" {
		wrapped := `<detail xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
			detailXML + `</detail>`
		decoder := xml.NewDecoder(strings.NewReader(wrapped))
		decoder.TypeFunc = vimTypes
		if err := decoder.Decode(value.Interface()); err != nil {
			return nil, fmt.Errorf("detailXml for %s does not decode: %v", typ.Name(), err)
		}
	}
	fault := value.Interface().(types.BaseMethodFault)
	// SystemError.reason is mandatory in the WSDL; clients expect it filled.
	if systemError, ok := fault.(*types.SystemError); ok && systemError.Reason == "" {
		systemError.Reason = message
		if systemError.Reason == "" {
			systemError.Reason = "injected by vcsim-control"
		}
	}
	return fault, nil
}

// soapFaultEnvelope is the SOAP 1.1 fault vCenter sends: the detail element is named after the
// fault type plus "Fault" and carries xsi:type, e.g. <InvalidStateFault xsi:type="InvalidState">.
type soapFaultEnvelope struct {
	XMLName xml.Name      `xml:"soapenv:Envelope"`
	Env     string        `xml:"xmlns:soapenv,attr"`
	XSD     string        `xml:"xmlns:xsd,attr"`
	XSI     string        `xml:"xmlns:xsi,attr"`
	Fault   soapFaultBody `xml:"soapenv:Body>soapenv:Fault"`
}

type soapFaultBody struct {
	Code   string          `xml:"faultcode"`
	String string          `xml:"faultstring"`
	Detail typedFaultValue `xml:"detail"`
}

type typedFaultValue struct{ fault types.BaseMethodFault }

func (v typedFaultValue) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	kind := reflect.TypeOf(v.fault).Elem().Name()
	inner := xml.StartElement{
		Name: xml.Name{Local: kind + "Fault"},
		Attr: []xml.Attr{
			{Name: xml.Name{Local: "xmlns"}, Value: "urn:vim25"},
			{Name: xml.Name{Local: "xsi:type"}, Value: kind},
		},
	}
	if err := e.EncodeElement(v.fault, inner); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func encodeSOAPFault(fault types.BaseMethodFault, message string) ([]byte, error) {
	var out bytes.Buffer
	out.WriteString(xml.Header)
	err := xml.NewEncoder(&out).Encode(soapFaultEnvelope{
		Env:   "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:   "http://www.w3.org/2001/XMLSchema",
		XSI:   "http://www.w3.org/2001/XMLSchema-instance",
		Fault: soapFaultBody{Code: "ServerFaultCode", String: message, Detail: typedFaultValue{fault}},
	})
	return out.Bytes(), err
}

// encodeTaskReturn is a *_Task method's normal answer: the task's moref.
func encodeTaskReturn(method string, task types.ManagedObjectReference) []byte {
	var escaped bytes.Buffer
	_ = xml.EscapeText(&escaped, []byte(task.Value))
	return []byte(xml.Header + `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>` +
		`<` + method + `Response xmlns="urn:vim25"><returnval type="Task">` + escaped.String() + `</returnval></` + method + `Response>` +
		`</soapenv:Body></soapenv:Envelope>`)
}

func sleepMs(ms int) {
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}
