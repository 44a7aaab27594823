//go:build race

package wrapper_test

// raceEnabled: the race detector's runtime allocates on its own, a few
// allocations more or less from run to run, so exact allocation counts are
// measured only without it.
const raceEnabled = true
