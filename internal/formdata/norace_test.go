//go:build !race

package formdata_test

const raceEnabled = false
