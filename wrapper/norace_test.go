//go:build !race

package wrapper_test

const raceEnabled = false
