package main

import (
	"fmt"
	"math/rand"
)

// setProbability makes the rule answer only a share of the calls it matches. A rule without a
// probability (or with 1) answers every matching call, as before.
func (r *faultRule) setProbability(probability *float64, seed int64) error {
	if probability == nil {
		if seed != 0 {
			return fmt.Errorf("seed %d without probability: only a random rule draws", seed)
		}
		return nil
	}
	p := *probability
	if p <= 0 || p > 1 {
		return fmt.Errorf("probability %g: want a share of calls in (0, 1]", p)
	}
	if p < 1 {
		r.Probability = p
		r.Seed = seed
		r.draws = newDraws(seed)
	}
	return nil
}

// draw says whether a matching call gets the rule's answer; it runs under the rule list's lock,
// so concurrent calls consume the seeded sequence one draw at a time.
func (r *faultRule) draw() bool {
	if r.draws == nil {
		return true
	}
	if r.draws.Float64() < r.Probability {
		return true
	}
	r.Passed++
	return false
}

func newDraws(seed int64) *rand.Rand {
	return rand.New(rand.NewSource(seed))
}
