package catalog_test

import (
	"testing"

	"github.com/fileup/fileup/catalog/catalogtest"
)

func TestSQLite(t *testing.T) {
	catalogtest.Run(t, catalogtest.DSNOpener(catalogtest.SQLiteDSN))
}

func TestPostgres(t *testing.T) {
	catalogtest.PostgresServer(t) // skip (or fail) once, not in every test
	catalogtest.Run(t, catalogtest.DSNOpener(catalogtest.PostgresDSN))
}
