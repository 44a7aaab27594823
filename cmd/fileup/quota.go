package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/fileup/fileup/wrapper"
)

func runQuota(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("quota", "[flags]\n\nPrints the API key's file quota (evolink only), one field a line:\n"+
		"user_group, used_files, max_files, remain_files (and is_custom, quota_reason when set);\n"+
		"fields the server did not send are left out (fileup serve sends no max_files and\n"+
		"remain_files when files are unlimited).", stderr)
	cf := addClientFlags(fs, "evolink", "API to use: only evolink has a quota operation (FILEUP_PROVIDER is not read)")
	asJSON := fs.Bool("json", false, `print one JSON object: {"ok":true,"quota":{...}} or {"ok":false,"error":{...}}`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected arguments: %q", fs.Args())
	}
	if cf.provider == "kie" {
		return usageErr(fs, "kie.ai has no quota operation; only evolink.ai (--provider evolink) has one")
	}
	up, err := cf.client(fs)
	if err != nil {
		return err
	}
	q, err := up.Quota(ctx)
	if *asJSON {
		line := struct {
			OK    bool           `json:"ok"`
			Quota *wrapper.Quota `json:"quota,omitempty"`
			Error *jsonError     `json:"error,omitempty"`
		}{OK: err == nil, Quota: q}
		if err != nil {
			line.Error = newJSONError(err)
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if err != nil {
		return err
	}
	if !*asJSON {
		printQuota(stdout, q)
	}
	return nil
}

// printQuota prints the fields the server sent, one "name<TAB>value" a
// line, named as in the API.
func printQuota(w io.Writer, q *wrapper.Quota) {
	if q.UserGroup != "" {
		fmt.Fprintf(w, "user_group\t%s\n", oneLine(q.UserGroup))
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"used_files", q.UsedFiles}, {"max_files", q.MaxFiles}, {"remain_files", q.RemainFiles}} {
		if f.v != nil {
			fmt.Fprintf(w, "%s\t%d\n", f.name, *f.v)
		}
	}
	if q.IsCustom {
		fmt.Fprintf(w, "is_custom\ttrue\n")
	}
	if q.QuotaReason != "" {
		fmt.Fprintf(w, "quota_reason\t%s\n", oneLine(q.QuotaReason))
	}
}

// oneLine is a server's string made safe for a terminal: control
// characters replaced, at most 200 bytes.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "..."
	}
	return s
}
