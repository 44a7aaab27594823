//go:build race

package jsonstream_test

// raceEnabled: the race detector's runtime allocates on its own, so exact
// allocation counts are measured only without it.
const raceEnabled = true
