package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
)

// pictureFile is the file of a message's picture to read, chosen under the queue's byte
// limit: the largest photo size below it, or an image sent as a document. ok is false when
// the message has no picture, or none small enough (the message is then unsupported, as
// without OCR).
func pictureFile(m *tgbotapi.Message, limit int64) (fileID string, ok bool) {
	if m == nil {
		return "", false
	}
	best := -1
	for i, p := range m.Photo {
		// file_size is optional in the Bot API; a size without it is judged by its pixels,
		// which bound a JPEG of Telegram's to well under the limits set here.
		if int64(p.FileSize) > limit {
			continue
		}
		if best < 0 || p.Width*p.Height > m.Photo[best].Width*m.Photo[best].Height {
			best = i
		}
	}
	if best >= 0 {
		return m.Photo[best].FileID, true
	}
	if d := m.Document; d != nil && readableImage(d.MimeType) && int64(d.FileSize) <= limit {
		return d.FileID, true
	}
	return "", false
}

// readableImage reports whether ocr decodes files of this MIME type.
func readableImage(mime string) bool {
	switch strings.ToLower(mime) {
	case "image/png", "image/jpeg", "image/jpg", "image/gif":
		return true
	}
	return false
}

// fileEndpoint is where files are downloaded from, derived from the Bot API endpoint as
// Telegram derives it (https://api.telegram.org/bot<token>/<method> and
// https://api.telegram.org/file/bot<token>/<file_path>), so that a test server or a local Bot
// API server serves both. The library's own File.Link always names api.telegram.org. Empty
// when the endpoint has no "bot%s/" to derive it from.
func fileEndpoint(api string) string {
	i := strings.Index(api, "bot%s/")
	if i < 0 {
		return ""
	}
	return api[:i] + "file/" + api[i:]
}

// fetcher returns what downloads the file fileID: getFile, then a GET of its file_path,
// under the queue's byte limit. Its errors hold neither the token nor the URL.
func (b *Bot) fetcher(fileID string) ocr.Fetch {
	return func(ctx context.Context, limit int64) ([]byte, error) {
		resp, err := b.api.MakeRequest("getFile", tgbotapi.Params{"file_id": fileID})
		if err != nil {
			return nil, fmt.Errorf("getFile: %s", b.scrub(err))
		}
		var f tgbotapi.File
		if err := json.Unmarshal(resp.Result, &f); err != nil {
			return nil, fmt.Errorf("getFile: %w", err)
		}
		if f.FilePath == "" {
			return nil, errors.New("getFile: no file_path")
		}
		if int64(f.FileSize) > limit {
			return nil, fmt.Errorf("%w: %d bytes", ocr.ErrTooLarge, f.FileSize)
		}
		return ocr.Download(ctx, b.client, fmt.Sprintf(b.files, b.opts.Token, f.FilePath), nil, limit)
	}
}

// submitPicture hands a message with a picture to the picture queue, as an InputImage whose
// text is the caption; with OCR off, or no file to read, it goes to the hub as it is.
func (b *Bot) submitPicture(ctx context.Context, in conversation.Inbound, m *tgbotapi.Message, done func(error)) {
	q := b.opts.Pictures
	if q == nil || b.files == "" {
		b.submit(ctx, in, done)
		return
	}
	fileID, ok := pictureFile(m, q.Limits().MaxBytes)
	if !ok {
		b.submit(ctx, in, done)
		return
	}
	switch in.Input.Kind {
	case conversation.InputText:
	case conversation.InputResume, conversation.InputUnsupported: // no caption, or only the @mention
		in.Input.Text = ""
	default:
		b.submit(ctx, in, done)
		return
	}
	in.Input.Kind = conversation.InputImage
	q.SubmitImage(ctx, in, b.fetcher(fileID), done)
}

// submit hands in to the hub, through the picture queue when there is one, so that a
// person's messages wait behind their own picture being read.
func (b *Bot) submit(ctx context.Context, in conversation.Inbound, done func(error)) {
	if b.opts.Pictures != nil {
		b.opts.Pictures.Submit(ctx, in, done)
		return
	}
	b.inlet.Submit(ctx, in, done)
}
