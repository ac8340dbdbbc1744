package telegramtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The file storage of the fake: what getFile describes and /file/bot<token>/<file_path>
// serves, as the Bot API does (https://core.telegram.org/bots/api#getfile).

type file struct {
	id, unique, path string
	data             []byte
}

// AddFile stores data as a file people sent and returns its file_id.
func (s *Server) AddFile(data []byte, ext string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]*file{}
	}
	n := len(s.files)
	f := &file{id: fmt.Sprintf("AgACAgIAAxkBAAI%06d", n), unique: fmt.Sprintf("AQAD%06d", n), path: fmt.Sprintf("photos/file_%d.%s", n, ext), data: data}
	s.files[f.id] = f
	return f.id
}

// Downloads returns how many files were downloaded.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// getFile answers a File object: file_id, file_unique_id, file_size, file_path.
func (s *Server) getFile(w http.ResponseWriter, p url.Values) {
	s.mu.Lock()
	f := s.files[p.Get("file_id")]
	s.mu.Unlock()
	if f == nil {
		writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: invalid file_id"})
		return
	}
	writeJSON(w, http.StatusOK, response{OK: true, Result: map[string]any{
		"file_id": f.id, "file_unique_id": f.unique, "file_size": len(f.data), "file_path": f.path,
	}})
}

// serveFile serves GET /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	rest, _ := strings.CutPrefix(r.URL.Path, "/file/bot")
	token, path, ok := strings.Cut(rest, "/")
	if !ok || token != Token || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	var found *file
	for _, f := range s.files {
		if f.path == path {
			found = f
		}
	}
	if found != nil {
		s.downloads++
	}
	s.mu.Unlock()
	if found == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(found.data)
}

// PhotoSize is one size of a photo in an update: Telegram sends several, smallest first.
type PhotoSize struct {
	FileID        string
	Width, Height int
	// Size is file_size; 0 leaves it out, as the Bot API may.
	Size int
}

// PrivatePhoto is an update with a photo u sends in a private chat with the bot, with its
// caption (may be empty).
func PrivatePhoto(u User, caption string, sizes ...PhotoSize) map[string]any {
	return message(u, private(u), photoFields(caption, sizes))
}

// GroupPhoto is an update with a photo u sends in group g, replying to replyTo (may be nil),
// with its caption (may be empty; @mentions in it get their entities).
func GroupPhoto(g Group, u User, caption string, replyTo map[string]any, sizes ...PhotoSize) map[string]any {
	f := photoFields(caption, sizes)
	if replyTo != nil {
		f["reply_to_message"] = replyTo
	}
	return message(u, g.json(), f)
}

// PrivateDocument is an update with a file u sends as a document (uncompressed), with its
// MIME type and size.
func PrivateDocument(u User, fileID, name, mime string, size int) map[string]any {
	return message(u, private(u), map[string]any{"document": map[string]any{
		"file_id": fileID, "file_unique_id": "U" + fileID, "file_name": name, "mime_type": mime, "file_size": size,
	}})
}

func photoFields(caption string, sizes []PhotoSize) map[string]any {
	var photo []map[string]any
	for _, p := range sizes {
		m := map[string]any{"file_id": p.FileID, "file_unique_id": "U" + p.FileID, "width": p.Width, "height": p.Height}
		if p.Size > 0 {
			m["file_size"] = p.Size
		}
		photo = append(photo, m)
	}
	f := map[string]any{"photo": photo}
	if caption != "" {
		t := textFields(caption, nil)
		f["caption"] = t["text"]
		if e, ok := t["entities"]; ok {
			f["caption_entities"] = e
		}
	}
	return f
}
