// Package cql holds Lenta's Cassandra schema as versioned CQL files,
// embedded in the binary so `feedctl migrate` needs nothing on disk.
//
// A file is named NNN_name.cql; NNN is its version, applied in ascending
// order and recorded in the keyspace's schema_migrations table. A released
// file never changes (its checksum is recorded); a change is a new file.
// Every statement must be idempotent (IF NOT EXISTS), ends with a semicolon
// at the end of a line, and comments start with "--".
//
// This package does no I/O and imports no driver: cassandrastore applies
// the files.
package cql

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

//go:embed *.cql
var files embed.FS

// Migration is one versioned CQL file.
type Migration struct {
	Version int    // NNN of the file name
	Name    string // the file name
	Text    string // the whole file
}

// Statements splits the file into its statements, without comments and
// surrounding white space.
func (m Migration) Statements() []string {
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(m.Text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(strings.TrimRight(line, " \t\r"))
		if strings.HasSuffix(t, ";") {
			s := strings.TrimSpace(cur.String())
			out = append(out, strings.TrimSpace(strings.TrimSuffix(s, ";")))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Migrations returns every embedded migration in version order. It fails
// on a badly named file or a repeated version.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(files, "*.cql")
	if err != nil {
		return nil, fmt.Errorf("cql: list: %w", err)
	}
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("cql: %s: want NNN_name.cql with NNN > 0", n)
		}
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("cql: read %s: %w", n, err)
		}
		out = append(out, Migration{Version: v, Name: n, Text: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("cql: version %d used by %s and %s", out[i].Version, out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

// Latest is the highest embedded version (0 if there are none).
func Latest() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
