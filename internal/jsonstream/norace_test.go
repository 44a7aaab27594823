//go:build !race

package jsonstream_test

const raceEnabled = false
