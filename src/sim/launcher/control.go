package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

const controlPrefix = "/vcsim-control/"

// controlFront sits in front of the simulator's own handler: it answers the control API under
// /vcsim-control/, applies fault rules to SOAP calls, and passes everything else through.
type controlFront struct {
	model       *simulator.Model
	simulator   http.Handler
	sdkPaths    map[string]bool
	rules       faultRules
	asyncTaskMs atomic.Int64
	delayMu     sync.Mutex // serialises writers of model.DelayConfig
	stats       *callStats
}

func newControlFront(model *simulator.Model, inner http.Handler) *controlFront {
	sdk := simulator.Map.Path
	return &controlFront{model: model, simulator: inner, sdkPaths: map[string]bool{sdk: true, sdk + "/vimService": true}, stats: newCallStats()}
}

func (c *controlFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		c.serveControl(w, r)
		return
	}
	if r.Method != http.MethodPost || !c.sdkPaths[r.URL.Path] {
		c.stats.recordOther()
		if !c.rules.empty() && strings.HasPrefix(r.URL.Path, "/folder/") {
			c.serveFileWithRules(w, r)
			return
		}
		c.simulator.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	started := time.Now()
	defer func() { c.stats.recordSOAP(soapMethodName(body), time.Since(started)) }()
	if !c.rules.empty() || c.asyncTaskMs.Load() > 0 {
		c.serveSDKWithRules(w, r)
		return
	}
	if guestRunner != nil && bytes.Contains(body, []byte("PowerOnVM_Task")) && c.refusePowerOn(w, body) {
		return
	}
	c.simulator.ServeHTTP(w, r)
}

// refusePowerOn fails a power-on the guest runner cannot carry out (a host port asked for and
// already taken: dockerd's "port is already allocated"), as vSphere fails a power-on it cannot do,
// before the model powers the VM on. A power-on it can carry out gets its host ports picked first,
// so that they are in the VM's extraConfig when the task ends.
func (c *controlFront) refusePowerOn(w http.ResponseWriter, body []byte) bool {
	call, err := simulator.UnmarshalBody(vimTypes, body)
	if err != nil || call.Name != "PowerOnVM_Task" {
		return false
	}
	why := guestRunner.PowerOnRefusal(call.This)
	if why == "" {
		guestRunner.ReservePorts(call.This)
		return false
	}
	c.answerWithRule(w, faultRule{Kind: kindTask, Fault: "GenericVmConfigFault", Message: why}, call.Name, call.This)
	return true
}

// serveSDKWithRules decodes the method and _this of a SOAP call and lets the first matching
// rule answer it. Injected answers skip the simulator's session check, as a proxy would.
func (c *controlFront) serveSDKWithRules(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	call, err := simulator.UnmarshalBody(vimTypes, body)
	if err != nil {
		// not ours to judge: the simulator answers malformed requests with its own fault
		c.simulator.ServeHTTP(w, r)
		return
	}
	rule, matched := c.rules.take(call.Name, call.This)
	if !matched {
		if ms := c.asyncTaskMs.Load(); ms > 0 && strings.HasSuffix(call.Name, taskSuffix) {
			rule = faultRule{Kind: kindAsync, DelayMs: int(min(ms, math.MaxInt32))}
			matched = true
		}
	}
	if !matched {
		c.simulator.ServeHTTP(w, r)
		return
	}
	if rule.ID != 0 {
		log.Printf("fault rule %d (%s) answers %s on %s", rule.ID, rule.Kind, call.Name, call.This)
	}

	switch rule.Kind {
	case kindDelay:
		sleepMs(rule.DelayMs)
		c.simulator.ServeHTTP(w, r)
	case kindLoseReply:
		sleepMs(rule.DelayMs)
		c.serveThenDrop(w, r)
	case kindAsync:
		task := newInjectedTask(call.Name, call.This)
		// cloned now: the server may reuse r once this handler returns
		go c.runAsync(task, r.Clone(context.Background()), body, rule.DelayMs)
		writeXML(w, http.StatusOK, encodeTaskReturn(call.Name, task.Self))
	default:
		sleepMs(rule.DelayMs)
		c.answerWithRule(w, rule, call.Name, call.This)
	}
}

// serveFileWithRules applies the rules named "HTTP <method>" to a datastore file transfer; `this`
// matches the path inside the datastore (e.g. "vch/bootstrap.iso").
func (c *controlFront) serveFileWithRules(w http.ResponseWriter, r *http.Request) {
	this := types.ManagedObjectReference{Type: "DatastoreFile", Value: strings.TrimPrefix(r.URL.Path, "/folder/")}
	rule, matched := c.rules.take(httpMethodPrefix+r.Method, this)
	if !matched {
		c.simulator.ServeHTTP(w, r)
		return
	}
	log.Printf("fault rule %d (%s) answers HTTP %s %s", rule.ID, rule.Kind, r.Method, r.URL.Path)
	sleepMs(rule.DelayMs)
	switch rule.Kind {
	case kindDelay:
		c.simulator.ServeHTTP(w, r)
	case kindLoseReply:
		c.serveThenDrop(w, r)
	default:
		c.answerWithRule(w, rule, r.Method, this)
	}
}

// serveThenDrop lets the simulator handle the request in full, then closes the connection
// instead of sending its answer.
func (c *controlFront) serveThenDrop(w http.ResponseWriter, r *http.Request) {
	recorder := httptest.NewRecorder()
	c.simulator.ServeHTTP(recorder, r)
	dropConnection(w)
}

func dropConnection(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "this connection cannot be dropped (no hijacking)", http.StatusInternalServerError)
		return
	}
	conn, _, err := hijacker.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func (c *controlFront) answerWithRule(w http.ResponseWriter, rule faultRule, method string, this types.ManagedObjectReference) {
	switch rule.Kind {
	case kindHTTP:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(rule.HTTPStatus)
		_, _ = io.WriteString(w, rule.Message)
	case kindDrop:
		dropConnection(w)
	case kindSOAP, kindTask:
		fault, err := buildFault(rule.Fault, rule.DetailXML, rule.Message)
		if err != nil { // checked when the rule was added; only a bug gets here
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if rule.Kind == kindTask {
			task := newInjectedTask(method, this)
			failTask(task, fault, rule.Message)
			writeXML(w, http.StatusOK, encodeTaskReturn(method, task.Self))
			return
		}
		envelope, err := encodeSOAPFault(fault, rule.Message)
		if err != nil {
			http.Error(w, "encoding the fault: "+err.Error(), http.StatusInternalServerError)
			return
		}
		writeXML(w, http.StatusInternalServerError, envelope)
	}
}

func (c *controlFront) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, controlPrefix), "/")
	switch route {
	case "GET faults":
		writeJSON(w, http.StatusOK, c.rules.list())
	case "POST faults":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		inputs, err := parseRuleInputs(body)
		if err == nil {
			var added []faultRule
			if added, err = c.rules.add(inputs); err == nil {
				writeJSON(w, http.StatusOK, added)
				return
			}
		}
		writeError(w, http.StatusBadRequest, err)
	case "DELETE faults":
		c.rules.clear()
		writeJSON(w, http.StatusOK, []faultRule{})
	case "GET delay":
		writeJSON(w, http.StatusOK, c.delays())
	case "POST delay":
		c.setDelays(w, r)
	case "GET info":
		writeJSON(w, http.StatusOK, c.info())
	case "GET stats":
		writeJSON(w, http.StatusOK, c.stats.report())
	case "POST stats/reset":
		writeJSON(w, http.StatusOK, c.stats.reset())
	case "POST question", "DELETE question":
		c.serveQuestion(w, r)
	case "POST create-date":
		c.serveCreateDate(w, r)
	case "POST sessions/expire":
		expired, err := c.expireSessions(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"expired": expired})
	default:
		writeError(w, http.StatusNotFound, fmt.Errorf("no control endpoint %q; known: GET|POST|DELETE faults, GET|POST delay, GET info, GET stats, POST stats/reset, POST sessions/expire, POST|DELETE question, POST create-date", route))
	}
}

type delaySettings struct {
	Delay       *int            `json:"delay"`
	MethodDelay *map[string]int `json:"methodDelay"`
	Jitter      *float64        `json:"jitter"`
	AsyncTaskMs *int64          `json:"asyncTaskMs"`
}

func (c *controlFront) delays() map[string]any {
	c.delayMu.Lock()
	defer c.delayMu.Unlock()
	config := c.model.DelayConfig
	methodDelay := config.MethodDelay
	if methodDelay == nil {
		methodDelay = map[string]int{}
	}
	return map[string]any{
		"delay": config.Delay, "methodDelay": methodDelay, "jitter": config.DelayJitter, "asyncTaskMs": c.asyncTaskMs.Load(),
	}
}

// setDelays changes the model's DelayConfig, which the simulator reads on every call. The method
// map is replaced, never edited in place, so a call reading the old map never races a writer.
func (c *controlFront) setDelays(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	var in delaySettings
	if err := strictJSON(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	problems := []string{}
	if in.Delay != nil && *in.Delay < 0 {
		problems = append(problems, fmt.Sprintf("delay %d must not be negative", *in.Delay))
	}
	if in.Jitter != nil && *in.Jitter < 0 {
		problems = append(problems, fmt.Sprintf("jitter %g must not be negative", *in.Jitter))
	}
	if in.AsyncTaskMs != nil && *in.AsyncTaskMs < 0 {
		problems = append(problems, fmt.Sprintf("asyncTaskMs %d must not be negative", *in.AsyncTaskMs))
	}
	if in.MethodDelay != nil {
		for method, ms := range *in.MethodDelay {
			if ms < 0 {
				problems = append(problems, fmt.Sprintf("methodDelay %s %d must not be negative", method, ms))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		writeError(w, http.StatusBadRequest, fmt.Errorf("%s", strings.Join(problems, "; ")))
		return
	}
	c.delayMu.Lock()
	if in.Delay != nil {
		c.model.DelayConfig.Delay = *in.Delay
	}
	if in.Jitter != nil {
		c.model.DelayConfig.DelayJitter = *in.Jitter
	}
	if in.MethodDelay != nil {
		replacement := make(map[string]int, len(*in.MethodDelay))
		for method, ms := range *in.MethodDelay {
			replacement[method] = ms
		}
		c.model.DelayConfig.MethodDelay = replacement
	}
	if in.AsyncTaskMs != nil {
		c.asyncTaskMs.Store(*in.AsyncTaskMs)
	}
	c.delayMu.Unlock()
	writeJSON(w, http.StatusOK, c.delays())
}

// expireSessions terminates every session through the simulator's own SessionManager, over an
// in-process client (whose internal session is never in the list), so a client holding an old
// cookie gets NotAuthenticated on its next call.
func (c *controlFront) expireSessions(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := vim25.NewClient(ctx, c.model.Service)
	if err != nil {
		return 0, fmt.Errorf("in-process client: %w", err)
	}
	var manager mo.SessionManager
	ref := *client.ServiceContent.SessionManager
	if err := property.DefaultCollector(client).RetrieveOne(ctx, ref, []string{"sessionList"}, &manager); err != nil {
		return 0, fmt.Errorf("reading SessionManager.sessionList: %w", err)
	}
	keys := make([]string, 0, len(manager.SessionList))
	for _, session := range manager.SessionList {
		keys = append(keys, session.Key)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if _, err := methods.TerminateSession(ctx, client, &types.TerminateSession{This: ref, SessionId: keys}); err != nil {
		return 0, fmt.Errorf("TerminateSession of %d sessions: %w", len(keys), err)
	}
	log.Printf("expired %d session(s)", len(keys))
	return len(keys), nil
}

type modelInfo struct {
	Datastores map[string]string `json:"datastores"`
	Model      map[string]int    `json:"model"`
}

// info maps each datastore to its local directory, keyed by name, or "<datacenter>/<name>" when
// several datacenters hold a datastore of that name.
func (c *controlFront) info() modelInfo {
	type located struct{ dc, name, dir string }
	var all []located
	seen := map[string]int{}
	for _, entity := range simulator.Map.All("Datacenter") {
		dc := entity.(*simulator.Datacenter)
		for _, ref := range dc.Datastore {
			ds, ok := simulator.Map.Get(ref).(*simulator.Datastore)
			if !ok {
				continue
			}
			all = append(all, located{dc.Name, ds.Name, ds.Info.GetDatastoreInfo().Url})
			seen[ds.Name]++
		}
	}
	datastores := map[string]string{}
	for _, ds := range all {
		key := ds.name
		if seen[ds.name] > 1 {
			key = ds.dc + "/" + ds.name
		}
		datastores[key] = ds.dir
	}
	return modelInfo{Datastores: datastores, Model: inventoryCounts()}
}

func inventoryCounts() map[string]int {
	byType := map[string]string{
		"Datacenter":                     "datacenters",
		"ClusterComputeResource":         "clusters",
		"HostSystem":                     "hosts",
		"VirtualMachine":                 "vms",
		"Datastore":                      "datastores",
		"DistributedVirtualPortgroup":    "portgroups",
		"VmwareDistributedVirtualSwitch": "dvs",
		"DistributedVirtualSwitch":       "dvs",
		"Network":                        "networks",
		"ResourcePool":                   "pools",
		"Folder":                         "folders",
		"Task":                           "tasks",
	}
	counts := map[string]int{}
	for kind, key := range byType {
		counts[key] += len(simulator.Map.AllReference(kind))
	}
	return counts
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
