package slack

import (
	"context"
	"testing"

	"github.com/slack-go/slack"

	"github.com/paydoctor/bot/internal/ocr"
)

// TestPicture_TokenOnlyToSlack: the bot token goes with url_private only to Slack's https
// hosts and the configured API's host.
func TestPicture_TokenOnlyToSlack(t *testing.T) {
	q := ocr.NewQueue(nil, ocr.QueueOptions{Reader: nopReader{}, MaxBytes: 1000})
	a := newAdapter(nil, nil, Options{BotToken: "xoxb-1", APIURL: "http://127.0.0.1:9/api/", Pictures: q})
	for _, c := range []struct {
		f  slack.File
		ok bool
	}{
		{slack.File{Mimetype: "image/png", Size: 10, URLPrivate: "https://files.slack.com/files-pri/T-F/a.png"}, true},
		{slack.File{Mimetype: "image/jpeg", Size: 10, URLPrivate: "http://127.0.0.1:9/files-pri/T-F/a.jpg"}, true},
		{slack.File{Mimetype: "image/png", Size: 10, URLPrivate: "http://files.slack.com/files-pri/T-F/a.png"}, false},
		{slack.File{Mimetype: "image/png", Size: 10, URLPrivate: "https://evil.example/slack.com/a.png"}, false},
		{slack.File{Mimetype: "image/png", Size: 10, URLPrivate: "https://files.slack.com.evil.example/a.png"}, false},
		{slack.File{Mimetype: "image/png", Size: 2000, URLPrivate: "https://files.slack.com/files-pri/T-F/big.png"}, false},
		{slack.File{Mimetype: "application/pdf", Size: 10, URLPrivate: "https://files.slack.com/files-pri/T-F/a.pdf"}, false},
	} {
		if _, ok := a.picture([]slack.File{c.f}); ok != c.ok {
			t.Errorf("%s %s (%d bytes): %v, want %v", c.f.Mimetype, c.f.URLPrivate, c.f.Size, ok, c.ok)
		}
	}
	off := newAdapter(nil, nil, Options{BotToken: "xoxb-1"})
	if _, ok := off.picture([]slack.File{{Mimetype: "image/png", Size: 10, URLPrivate: "https://files.slack.com/a.png"}}); ok {
		t.Error("a picture is read with OCR off")
	}
}

type nopReader struct{}

func (nopReader) Read(context.Context, []byte) (string, error) { return "", nil }
