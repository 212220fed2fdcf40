//go:build tools

// Package tools pins the FerretDB version that deploy/local/ferretdb.sh builds.
// This module is never compiled itself: the script vendors it and builds
// github.com/FerretDB/FerretDB/cmd/ferretdb from the vendored copy.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
