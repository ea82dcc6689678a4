package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// newInjectedTask registers a queued task in the simulator's inventory, so clients read and
// wait on it exactly as on the simulator's own tasks.
func newInjectedTask(method string, this types.ManagedObjectReference) *simulator.Task {
	// CreateTask turns "XTask" into the vmodl name "X_Task"; nothing executes it: we drive its state.
	return simulator.CreateTask(this, strings.TrimSuffix(method, taskSuffix)+"Task", nil)
}

func updateTask(task *simulator.Task, changes ...types.PropertyChange) {
	simulator.Map.AtomicUpdate(simulator.SpoofContext(), task, changes)
}

// failTask moves a task straight to error, as a vCenter task that failed at once.
func failTask(task *simulator.Task, fault types.BaseMethodFault, message string) {
	now := time.Now()
	if message == "" {
		message = faultTypeName(fault)
	}
	updateTask(task,
		types.PropertyChange{Name: "info.startTime", Val: now},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
	)
	updateTask(task,
		types.PropertyChange{Name: "info.completeTime", Val: now},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateError},
		types.PropertyChange{Name: "info.error", Val: &types.LocalizedMethodFault{Fault: fault, LocalizedMessage: message}},
	)
}

// runAsync plays a slow vCenter task over totalMs: queued, then running, progress 25, 50 and 75,
// then the real call runs through the simulator and its outcome becomes this task's (progress 100).
func (c *controlFront) runAsync(task *simulator.Task, request *http.Request, body []byte, totalMs int) {
	step := totalMs / 5
	sleepMs(step)
	updateTask(task,
		types.PropertyChange{Name: "info.startTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
	)
	for _, percent := range []int32{25, 50, 75} {
		sleepMs(step)
		updateTask(task, types.PropertyChange{Name: "info.progress", Val: percent})
	}
	sleepMs(step)

	result, fault := c.callSimulator(request, body)
	changes := []types.PropertyChange{
		{Name: "info.progress", Val: int32(100)},
		{Name: "info.completeTime", Val: time.Now()},
	}
	if fault != nil {
		changes = append(changes,
			types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateError},
			types.PropertyChange{Name: "info.error", Val: fault})
	} else {
		changes = append(changes,
			types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateSuccess},
			types.PropertyChange{Name: "info.result", Val: result})
	}
	updateTask(task, changes...)
}

// callSimulator replays the original request (same cookie, so same session) against the
// simulator and, for the task it returns, waits and takes that task's result or error.
func (c *controlFront) callSimulator(replay *http.Request, body []byte) (types.AnyType, *types.LocalizedMethodFault) {
	replay.Body = io.NopCloser(bytes.NewReader(body))
	replay.ContentLength = int64(len(body))
	recorder := httptest.NewRecorder()
	c.simulator.ServeHTTP(recorder, replay)

	if recorder.Code != http.StatusOK {
		fault, message := decodeSOAPFault(recorder.Body.Bytes())
		if fault == nil {
			fault = &types.SystemError{Reason: "simulator answered HTTP " + http.StatusText(recorder.Code)}
		}
		return nil, &types.LocalizedMethodFault{Fault: fault, LocalizedMessage: message}
	}
	ref, ok := returnedTask(recorder.Body.Bytes())
	if !ok {
		return nil, nil
	}
	inner, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok {
		log.Printf("async task: simulator returned %s, which is not a task in the inventory", ref)
		return nil, nil
	}
	inner.Wait()
	var result types.AnyType
	var fault *types.LocalizedMethodFault
	simulator.Map.WithLock(simulator.SpoofContext(), inner, func() {
		result = inner.Info.Result
		fault = inner.Info.Error
	})
	return result, fault
}

func decodeSOAPFault(body []byte) (types.BaseMethodFault, string) {
	var envelope struct {
		Body struct {
			Fault *soap.Fault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	decoder := xml.NewDecoder(bytes.NewReader(body))
	decoder.TypeFunc = vimTypes
	if err := decoder.Decode(&envelope); err != nil || envelope.Body.Fault == nil {
		return nil, ""
	}
	fault := asMethodFault(envelope.Body.Fault.Detail.Fault)
	message := envelope.Body.Fault.String
	if message == "" && fault != nil {
		message = faultTypeName(fault)
	}
	return fault, message
}

// returnedTask finds <returnval type="Task">task-N</returnval> in a SOAP response.
func returnedTask(body []byte) (types.ManagedObjectReference, bool) {
	decoder := xml.NewDecoder(bytes.NewReader(body))
	for {
		token, err := decoder.Token()
		if err != nil {
			return types.ManagedObjectReference{}, false
		}
		start, ok := token.(xml.StartElement)
		if !ok || start.Name.Local != "returnval" {
			continue
		}
		var ref types.ManagedObjectReference
		if err := decoder.DecodeElement(&ref, &start); err != nil || ref.Type != "Task" {
			return types.ManagedObjectReference{}, false
		}
		return ref, true
	}
}

func faultTypeName(fault types.BaseMethodFault) string {
	return reflect.TypeOf(fault).Elem().Name()
}

// asMethodFault turns a decoded fault detail into the pointer the vim25 types use: the decoder
// stores a value (types.NotFound), while only *types.NotFound implements BaseMethodFault.
func asMethodFault(detail types.AnyType) types.BaseMethodFault {
	if fault, ok := detail.(types.BaseMethodFault); ok {
		return fault
	}
	if detail == nil {
		return nil
	}
	pointer := reflect.New(reflect.TypeOf(detail))
	pointer.Elem().Set(reflect.ValueOf(detail))
	fault, _ := pointer.Interface().(types.BaseMethodFault)
	return fault
}
