package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func TestInjectedSOAPFaultDecodesIntoTheRealType(t *testing.T) {
	// GIVEN a NotFound fault with a localized message decoded from detailXml
	fault, err := buildFault("NotFound", `<faultMessage><key>k1</key><message>gone</message></faultMessage>`, "boom")
	if err != nil {
		t.Fatal(err)
	}
	// WHEN it is encoded as a SOAP envelope and decoded the way a vim25 client does
	envelope, err := encodeSOAPFault(fault, "boom")
	if err != nil {
		t.Fatal(err)
	}
	decoded, message := decodeSOAPFault(envelope)
	// THEN the type, the message and the detail survive
	notFound, ok := decoded.(*types.NotFound)
	if !ok {
		t.Fatalf("decoded %T from %s", decoded, envelope)
	}
	if message != "boom" || len(notFound.FaultMessage) != 1 || notFound.FaultMessage[0].Message != "gone" {
		t.Fatalf("lost detail: message %q, fault %+v", message, notFound)
	}
}

func TestSimulatorStyleFaultDecodes(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>managed object not found: VirtualMachine:vm-57</faultstring><detail><ManagedObjectNotFoundFault xmlns="urn:vim25" xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-57</obj></ManagedObjectNotFoundFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
	decoded, message := decodeSOAPFault([]byte(body))
	notFound, ok := decoded.(*types.ManagedObjectNotFound)
	if !ok || notFound.Obj.Value != "vm-57" || message == "" {
		t.Fatalf("decoded %T %+v %q", decoded, decoded, message)
	}
}

func TestRuleDefaultsAndValidation(t *testing.T) {
	cases := []struct {
		name    string
		in      ruleInput
		wantErr bool
		check   func(*faultRule) bool
	}{
		{"defaults", ruleInput{}, false, func(r *faultRule) bool {
			return r.Method == "*" && r.Kind == kindSOAP && r.Fault == "SystemError" && r.Times == 1
		}},
		{"http default status", ruleInput{Kind: kindHTTP}, false, func(r *faultRule) bool { return r.HTTPStatus == 503 }},
		{"unknown fault", ruleInput{Fault: "NoSuchThing"}, true, nil},
		{"not a fault type", ruleInput{Fault: "VirtualMachine"}, true, nil},
		{"bad kind", ruleInput{Kind: "explode"}, true, nil},
		{"task kind on a non-task method", ruleInput{Kind: kindTask, Method: "CurrentTime"}, true, nil},
		{"delay without delayMs", ruleInput{Kind: kindDelay}, true, nil},
		{"times zero", ruleInput{Times: ptr(0)}, true, nil},
		{"unlimited", ruleInput{Times: ptr(-1)}, false, func(r *faultRule) bool { return r.Times == -1 }},
		{"bad detail", ruleInput{Fault: "NotFound", DetailXML: "<faultMessage>"}, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := newRule(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(rule) {
				t.Fatalf("unexpected rule %+v", rule)
			}
		})
	}
}

func TestSHA256ThumbprintFormat(t *testing.T) {
	got := sha256Thumbprint([]byte("x"))
	want := "2D:71:16:42:B7:26:B0:44:01:62:7C:A9:FB:AC:32:F5:C8:53:0F:B1:90:3C:C4:DB:02:25:87:17:92:1A:48:81"
	if got != want {
		t.Fatalf("got %s", got)
	}
}

func ptr(n int) *int { return &n }

func TestFileTransferRulesMatchOnlyTheirHTTPMethod(t *testing.T) {
	// GIVEN a lose-reply rule for uploads of one file, and a rule for every SOAP method
	put, err := newRule(ruleInput{Method: "HTTP PUT", This: "vch/bootstrap.iso", Kind: kindLoseReply})
	if err != nil {
		t.Fatal(err)
	}
	everySOAP, err := newRule(ruleInput{Kind: kindDrop})
	if err != nil {
		t.Fatal(err)
	}
	file := types.ManagedObjectReference{Type: "DatastoreFile", Value: "vch/bootstrap.iso"}
	// THEN the upload rule matches that file's PUT only, and "*" never matches a file transfer
	if !put.matches("HTTP PUT", file) || put.matches("HTTP GET", file) || put.matches("HTTP PUT", types.ManagedObjectReference{Type: "DatastoreFile", Value: "vch/other"}) {
		t.Fatalf("HTTP PUT rule matched the wrong transfers: %+v", put)
	}
	if everySOAP.matches("HTTP PUT", file) || !everySOAP.matches("CreateFolder", types.ManagedObjectReference{Type: "Folder", Value: "group-v3"}) {
		t.Fatalf(`"*" rule: %+v`, everySOAP)
	}
	// AND a kind that answers with SOAP cannot be put on a file transfer
	if _, err := newRule(ruleInput{Method: "HTTP PUT", Kind: kindTask}); err == nil {
		t.Fatal("a task rule on HTTP PUT was accepted")
	}
}
