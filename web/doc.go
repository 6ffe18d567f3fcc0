// Package web is Lenta's browser page: plain HTML, CSS and JavaScript and
// the push service worker, embedded in the binary and served by httpapi
// at "/". The page signs in with a token, shows the feed with a Class
// button, the notifications with an unread badge, and enables Web Push.
//
// This package must never do I/O beyond its embedded files, and never
// import a transport library: httpapi serves it.
package web

import (
	"embed"
	"io/fs"
	"path"
)

//go:embed static
var static embed.FS

// File is one page asset.
type File struct {
	Body        []byte
	ContentType string
}

// Files returns every asset by its URL path ("/" is the page).
func Files() (map[string]File, error) {
	out := map[string]File{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := "/" + p[len("static/"):]
		out[name] = File{Body: b, ContentType: contentType(path.Ext(name))}
		if name == "/index.html" {
			out["/"] = out[name]
		}
		return nil
	})
	return out, err
}

func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/manifest+json"
	}
	return "application/octet-stream"
}
