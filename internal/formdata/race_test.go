//go:build race

package formdata_test

// raceEnabled: the race detector's runtime allocates on its own, so exact
// allocation counts are measured only without it.
const raceEnabled = true
