// Package console holds the merchant console's built front end (dist/),
// embedded in the binary so `go run` and air-gapped installs need no Node.
// The source is in src/; `npm run build` (build.mjs) rebuilds dist/, and
// scripts/test checks that the committed dist/ is what the source builds.
package console

import (
	"embed"
	"io/fs"
)

// Assets is the built console as committed: dist/index.html, dist/app.js and
// dist/app.css.
//
//go:embed dist
var Assets embed.FS

// FS returns the built console rooted at dist/, ready to serve under /console/.
func FS() fs.FS {
	sub, err := fs.Sub(Assets, "dist")
	if err != nil {
		panic("console: embedded dist/ is missing: " + err.Error()) // cannot happen: go:embed checked it at build time
	}
	return sub
}
