package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// questionInput is POSTed to /vcsim-control/question: the VM and the question it shows.
type questionInput struct {
	VM      string   `json:"vm"`
	Text    string   `json:"text"`
	Choices []string `json:"choices"`
}

var questionIDs atomic.Int64

// vcsim never asks a question (a moved or copied VM, a full datastore); the control API sets one
// on a VM's runtime.question, so clients can be tested against a VM blocked on it.
func (c *controlFront) serveQuestion(w http.ResponseWriter, r *http.Request) {
	var in questionInput
	if r.Method == http.MethodDelete {
		in.VM = r.URL.Query().Get("vm")
	} else {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = strictJSON(body, &in)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if in.Text == "" {
			writeError(w, http.StatusBadRequest, fmt.Errorf("text: the question's text is required"))
			return
		}
	}
	vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: in.VM}).(*simulator.VirtualMachine)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("vm %q: no such VirtualMachine (give its moref, e.g. vm-57)", in.VM))
		return
	}
	var question *types.VirtualMachineQuestionInfo
	if r.Method != http.MethodDelete {
		choices := in.Choices
		if len(choices) == 0 {
			choices = []string{"OK", "Cancel"}
		}
		options := make([]types.BaseElementDescription, 0, len(choices))
		for i, label := range choices {
			options = append(options, &types.ElementDescription{Description: types.Description{Label: label, Summary: label}, Key: strconv.Itoa(i)})
		}
		question = &types.VirtualMachineQuestionInfo{
			Id:     fmt.Sprintf("%s_%d", in.VM, questionIDs.Add(1)),
			Text:   in.Text,
			Choice: types.ChoiceOption{ChoiceInfo: options, DefaultIndex: 0},
		}
	}
	ctx := simulator.SpoofContext()
	if question == nil {
		// Registry.Update cannot assign nil (it panics in mo.ApplyPropertyChange): clear the field
		// directly. Open filters see no change; reads and new filters see no question.
		simulator.Map.WithLock(ctx, vm, func() { vm.Runtime.Question = nil })
	} else {
		simulator.Map.AtomicUpdate(ctx, vm, []types.PropertyChange{{Name: "runtime.question", Val: question}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"vm": in.VM, "question": question})
}
