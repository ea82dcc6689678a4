package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func randomRule(t *testing.T, probability float64, seed int64) *faultRules {
	t.Helper()
	times := -1
	var rules faultRules
	if _, err := rules.add([]ruleInput{{Kind: kindHTTP, Times: &times, Probability: &probability, Seed: seed}}); err != nil {
		t.Fatal(err)
	}
	return &rules
}

func hitsOf(rules *faultRules, calls int) []bool {
	out := make([]bool, calls)
	vm := types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-1"}
	for i := range out {
		_, out[i] = rules.take("PowerOnVM_Task", vm)
	}
	return out
}

func TestRandomRuleAnswersItsShareAndRepeatsWithTheSameSeed(t *testing.T) {
	// GIVEN two rules answering 10 % of the calls, with the same seed
	first, second := randomRule(t, 0.1, 42), randomRule(t, 0.1, 42)
	// WHEN each sees 2000 calls
	a, b := hitsOf(first, 2000), hitsOf(second, 2000)
	// THEN both answer the same calls, about 10 % of them, and count hits and passes
	hits := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d: same seed, different draw", i)
		}
		if a[i] {
			hits++
		}
	}
	if hits < 150 || hits > 250 {
		t.Fatalf("%d hits of 2000 at probability 0.1", hits)
	}
	listed := first.list()[0]
	if listed.Hits != hits || listed.Passed != 2000-hits {
		t.Fatalf("counted hits %d passed %d, want %d and %d", listed.Hits, listed.Passed, hits, 2000-hits)
	}
	// AND another seed draws another sequence
	if c := hitsOf(randomRule(t, 0.1, 7), 2000); equal(a, c) {
		t.Fatal("seeds 42 and 7 drew the same sequence")
	}
}

func TestProbabilityOutOfRangeIsRefused(t *testing.T) {
	for _, p := range []float64{0, -0.5, 1.5} {
		probability := p
		if _, err := newRule(ruleInput{Probability: &probability}); err == nil {
			t.Fatalf("probability %g accepted", p)
		}
	}
	if _, err := newRule(ruleInput{Seed: 3}); err == nil {
		t.Fatal("a seed without a probability was accepted")
	}
}

func equal(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
