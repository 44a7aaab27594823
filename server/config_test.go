package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// server.New refuses tokens shorter than MinTokenLength unless
// AllowShortTokens, and tokens that are empty or hold white space always.
func TestNewRefusesWeakTokens(t *testing.T) {
	root := t.TempDir()
	store, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.OpenDSN(t, "sqlite:"+filepath.Join(root, "fileup.db"), catalog.Options{})
	sixteen := strings.Repeat("s", server.MinTokenLength)
	tests := []struct {
		label      string
		tokens     []string
		allowShort bool
		err        string // "" when accepted
	}{
		{"16 characters", []string{sixteen}, false, ""},
		{"15 characters", []string{sixteen[1:]}, false, "a token of 15 characters is too short to resist guessing: use at least 16"},
		{"one short among good ones", []string{sixteen, "hunter2", tokenA}, false, "a token of 7 characters is too short"},
		{"15 characters, allowed", []string{sixteen[1:]}, true, ""},
		{"1 character, allowed", []string{"x"}, true, ""},
		{"empty", []string{""}, true, "tokens must be non-empty and contain no white space"},
		{"space", []string{sixteen + " x"}, true, "tokens must be non-empty and contain no white space"},
		{"newline", []string{sixteen + "\n"}, false, "tokens must be non-empty and contain no white space"},
		{"none", nil, false, "at least one token is required"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := server.New(context.Background(), server.Config{Store: store, Catalog: cat, Tokens: tt.tokens, AllowShortTokens: tt.allowShort})
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}
