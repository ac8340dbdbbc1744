package slacktest

import (
	"fmt"
	"net/http"
	"strings"
)

// Files people share, served at their url_private as Slack serves it
// (https://api.slack.com/types/file): only with "Authorization: Bearer <token>" of a token
// with files:read; without one Slack answers 200 with its sign-in page, HTML, not the file.

type file struct {
	id, name, mime string
	data           []byte
}

// AddFile stores data as a file a person shared and returns its file object, as message
// events carry it in "files".
func (s *Server) AddFile(name, mimetype string, data []byte) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]*file{}
	}
	f := &file{id: fmt.Sprintf("F0FILE%04d", len(s.files)), name: name, mime: mimetype, data: data}
	s.files[f.id] = f
	url := s.srv.URL + "/files-pri/" + Team + "-" + f.id + "/" + name
	filetype, _, _ := strings.Cut(strings.TrimPrefix(mimetype, "image/"), ";")
	return map[string]any{
		"id": f.id, "created": 1700000000, "timestamp": 1700000000, "name": name, "title": name,
		"mimetype": mimetype, "filetype": filetype, "pretty_type": strings.ToUpper(filetype),
		"user": "", "mode": "hosted", "editable": false, "is_external": false, "size": len(data),
		"url_private": url, "url_private_download": url + "?download=1",
	}
}

// FileDownloads returns how many files were downloaded with a token.
func (s *Server) FileDownloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// serveFile serves GET /files-pri/<team>-<file id>/<name>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.PathValue("id"), Team+"-")
	s.mu.Lock()
	f := s.files[id]
	auth := strings.HasPrefix(r.Header.Get("Authorization"), "Bearer xoxb-")
	if f != nil && auth {
		s.downloads++
	}
	s.mu.Unlock()
	switch {
	case f == nil || f.name != r.PathValue("name"):
		http.NotFound(w, r)
	case !auth:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><body>Sign in to Slack</body></html>")
	default:
		w.Header().Set("Content-Type", f.mime)
		w.Write(f.data)
	}
}

// FileShare is a message.im event of a file user shared in the DM channel, with text (may be
// empty), as Slack sends it: subtype file_share and the file objects in "files".
func FileShare(channel, user, text, ts string, files ...map[string]any) map[string]any {
	e := DM(channel, user, text, ts)
	e["subtype"] = "file_share"
	e["upload"] = true
	e["files"] = files
	return e
}

// MentionWithFiles is an app_mention whose message shares files.
func MentionWithFiles(channel, user, text, ts, threadTS string, files ...map[string]any) map[string]any {
	e := Mention(channel, user, text, ts, threadTS)
	e["files"] = files
	return e
}
