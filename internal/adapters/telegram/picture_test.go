package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/ocr"
)

func TestPictureFile_LargestUnderTheLimit(t *testing.T) {
	m := &tgbotapi.Message{Photo: []tgbotapi.PhotoSize{
		{FileID: "small", Width: 90, Height: 160, FileSize: 2000},
		{FileID: "medium", Width: 720, Height: 1280, FileSize: 90_000},
		{FileID: "large", Width: 1440, Height: 2560, FileSize: 900_000},
	}}
	for _, c := range []struct {
		limit int64
		want  string
		ok    bool
	}{{1 << 20, "large", true}, {100_000, "medium", true}, {1000, "", false}} {
		if got, ok := pictureFile(m, c.limit); got != c.want || ok != c.ok {
			t.Errorf("limit %d: %q, %v; want %q, %v", c.limit, got, ok, c.want, c.ok)
		}
	}
	doc := &tgbotapi.Message{Document: &tgbotapi.Document{FileID: "d", MimeType: "image/png", FileSize: 500}}
	if got, ok := pictureFile(doc, 1000); got != "d" || !ok {
		t.Errorf("an image document: %q, %v", got, ok)
	}
	pdf := &tgbotapi.Message{Document: &tgbotapi.Document{FileID: "p", MimeType: "application/pdf", FileSize: 500}}
	if _, ok := pictureFile(pdf, 1000); ok {
		t.Error("a PDF is not a picture the bot reads")
	}
	if _, ok := pictureFile(&tgbotapi.Message{Text: "hi"}, 1000); ok {
		t.Error("a text is not a picture")
	}
}

func TestFileEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.telegram.org/bot%s/%s": "https://api.telegram.org/file/bot%s/%s",
		"http://127.0.0.1:8081/bot%s/%s":    "http://127.0.0.1:8081/file/bot%s/%s",
		"http://h/tg/%s/%s":                 "",
	} {
		if got := fileEndpoint(in); got != want {
			t.Errorf("fileEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFetcher_Context: getFile and the download run under the context the queue gives them
// (the library's MakeRequest takes none), and no error names the token.
func TestFetcher_Context(t *testing.T) {
	const token = "123:SECRET"
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bot" + token + "/getFile":
			if r.FormValue("file_id") == "hang" {
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			if r.FormValue("file_id") == "nosize" { // file_size is optional
				fmt.Fprint(w, `{"ok":true,"result":{"file_id":"nosize","file_path":"photos/a.jpg"}}`)
				return
			}
			fmt.Fprintf(w, `{"ok":true,"result":{"file_id":%q,"file_size":5,"file_path":"photos/a.jpg"}}`, r.FormValue("file_id"))
		case "/file/bot" + token + "/photos/a.jpg":
			w.Write([]byte("bytes"))
		default:
			http.Error(w, `{"ok":false,"error_code":404,"description":"Not Found"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	defer close(release)
	q := ocr.NewQueue(nil, ocr.QueueOptions{Reader: nopReader{}})
	b := New(nil, Options{Token: token, APIEndpoint: srv.URL + "/bot%s/%s", HTTPClient: srv.Client(), Pictures: q})

	if img, err := b.fetcher("f")(context.Background(), 100); err != nil || string(img) != "bytes" {
		t.Fatalf("fetch = %q, %v", img, err)
	}
	if _, err := b.fetcher("f")(context.Background(), 4); !errors.Is(err, ocr.ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := b.fetcher("nosize")(context.Background(), 4); !errors.Is(err, ocr.ErrTooLarge) {
		t.Fatalf("over the limit, without file_size: %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := b.fetcher("hang")(ctx, 100)
		result <- err
	}()
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("getFile cancelled: %v, want context.Canceled without the token", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("getFile goes on after its context is cancelled")
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	b = New(nil, Options{Token: token, APIEndpoint: closed.URL + "/bot%s/%s", Pictures: q})
	if _, err := b.fetcher("f")(context.Background(), 100); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("getFile refused: %v, want an error without the token", err)
	}
}

type nopReader struct{}

func (nopReader) Read(context.Context, []byte) (string, error) { return "", nil }
