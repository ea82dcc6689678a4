package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

func TestSOAPMethodNameFromTheBody(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"prefixed envelope", `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="s"><soapenv:Body><RetrievePropertiesEx xmlns="urn:vim25"><_this>x</_this></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>`, "RetrievePropertiesEx"},
		{"prefixed method", `<Envelope><Body><vim:PowerOnVM_Task xmlns:vim="urn:vim25"/></Body></Envelope>`, "PowerOnVM_Task"},
		{"body with attributes and whitespace", "<s:Envelope>\n<s:Header/><s:Body xmlns:x=\"y\">\n  <!-- c --><Login>", "Login"},
		{"an element whose name ends in Body is not the body", `<s:Envelope><s:Header><x:NotBody/></s:Header><s:Body><Logout/></s:Body>`, "Logout"},
		{"empty body", `<s:Envelope><s:Body></s:Body></s:Envelope>`, ""},
		{"no body", `<s:Envelope></s:Envelope>`, ""},
		{"truncated", `<s:Envelope><s:Body>`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := soapMethodName([]byte(tc.body)); got != tc.want {
				t.Fatalf("GIVEN %s WHEN the method is read THEN want %q, got %q", tc.body, tc.want, got)
			}
		})
	}
}

func TestStatsCountEverySOAPCallAtTheSimulatorAndReset(t *testing.T) {
	// GIVEN a simulator behind the control front, and a govmomi client logged in to it
	model := simulator.VPX()
	model.Machine = 0
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	defer model.Remove()
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	server := model.Service.NewServer()
	defer server.Close()
	front := newControlFront(model, server.Config.Handler)
	server.Config.Handler = front

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := govmomi.NewClient(ctx, server.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	controlURL := "http://" + server.URL.Host + controlPrefix
	before := getStats(t, controlURL+"stats", http.MethodGet)
	if before.Calls["Login"] != 1 || before.Total < 2 {
		t.Fatalf("GIVEN a login THEN Login is counted once: %+v", before)
	}

	// WHEN the stats are reset and three CurrentTime calls are made
	ended := getStats(t, controlURL+"stats/reset", http.MethodPost)
	if ended.Total != before.Total {
		t.Fatalf("reset returns the count it ends: %d, want %d", ended.Total, before.Total)
	}
	for i := 0; i < 3; i++ {
		if _, err := methods.GetCurrentTime(ctx, client.Client); err != nil {
			t.Fatal(err)
		}
	}
	// and a faulting call is answered by an injected rule
	if _, err := front.rules.add([]ruleInput{{Method: "CurrentTime", Kind: kindSOAP}}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.GetCurrentTime(ctx, client.Client); err == nil {
		t.Fatal("the injected fault did not answer")
	}
	_, _ = methods.RetrieveServiceContent(ctx, client.Client, &types.RetrieveServiceContent{This: types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}})

	// THEN exactly those calls are counted, by method, with their server time
	after := getStats(t, controlURL+"stats", http.MethodGet)
	if after.Calls["CurrentTime"] != 4 || after.Calls["RetrieveServiceContent"] != 1 || after.Total != 5 {
		t.Fatalf("want 4 CurrentTime + 1 RetrieveServiceContent since the reset, got %+v", after)
	}
	if after.ServerMs["CurrentTime"] <= 0 || !after.Since.After(before.Since) {
		t.Fatalf("want server time and a later start, got %+v", after)
	}
}

func getStats(t *testing.T, address, method string) statsReport {
	t.Helper()
	request, err := http.NewRequest(method, address, nil)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, address, response.StatusCode)
	}
	var report statsReport
	if err := json.NewDecoder(response.Body).Decode(&report); err != nil {
		t.Fatal(err)
	}
	return report
}
