package server

import (
	"net/http"
)

// maxOriginalName bounds the original file name recorded for a file.
const maxOriginalName = MaxOriginalNameBytes

// checkPlace applies the rules for client-chosen names (names.go) to an
// upload path and file name; field names the fields in the message.
func checkPlace(dir, name, pathField, nameField string) *apiError {
	if err := checkPath(dir); err != nil {
		return errorf(http.StatusBadRequest, "Invalid "+pathField+": "+err.Error())
	}
	if err := checkName(name); err != nil {
		return errorf(http.StatusBadRequest, "Invalid "+nameField+": "+err.Error())
	}
	if err := checkKey(dir, name); err != nil {
		return errorf(http.StatusBadRequest, "Invalid "+pathField+"/"+nameField+": "+err.Error())
	}
	return nil
}

// checkOriginal applies the rules to the file name a client sent with
// the file.
func checkOriginal(original string) *apiError {
	if err := checkOriginalName(original); err != nil {
		return errorf(http.StatusBadRequest, "Invalid filename of the file part: "+err.Error())
	}
	return nil
}
