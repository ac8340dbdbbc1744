package telegram

import (
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
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
