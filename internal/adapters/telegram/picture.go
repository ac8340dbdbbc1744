package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
		// file_size is optional in the Bot API: a size without it (0) is taken here, and its
		// bytes are checked against the limit when getFile gives them, and again while it is
		// downloaded. Telegram's photo sizes are JPEGs of at most 2560 pixels a side, far
		// under the limits.
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
	if d := m.Document; d != nil && ocr.Decodes(d.MimeType) && int64(d.FileSize) <= limit {
		return d.FileID, true
	}
	return "", false
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
// under the queue's byte limit, both under the context the queue gives. Its errors hold
// neither the token nor the URL.
func (b *Bot) fetcher(fileID string) ocr.Fetch {
	return func(ctx context.Context, limit int64) ([]byte, error) {
		f, err := b.getFile(ctx, fileID)
		if err != nil {
			return nil, err
		}
		if f.FilePath == "" {
			return nil, errors.New("getFile: no file_path")
		}
		if int64(f.FileSize) > limit {
			return nil, fmt.Errorf("%w: %d bytes", ocr.ErrTooLarge, f.FileSize)
		}
		img, err := ocr.Download(ctx, b.client, fmt.Sprintf(b.files, b.opts.Token, f.FilePath), nil, limit)
		if err != nil {
			return nil, b.withoutToken(err)
		}
		return img, nil
	}
}

// withoutToken returns err without the request URL, which holds the token, that the HTTP
// client's errors carry; still wrapping what it wraps (a context's error, ocr.ErrTooLarge)
// unless the token is in that too.
func (b *Bot) withoutToken(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if b.opts.Token != "" && strings.Contains(err.Error(), b.opts.Token) {
		return errors.New(b.scrub(err))
	}
	return err
}

// maxGetFile bounds the answer to getFile read: a File object is a few hundred bytes.
const maxGetFile = 64 << 10

// getFile calls the Bot API's getFile at the endpoint the library uses, under ctx: the
// library's MakeRequest takes no context, and a download must not outlive its timeout or
// the bot's stop. Its errors hold neither the token nor the URL.
func (b *Bot) getFile(ctx context.Context, fileID string) (tgbotapi.File, error) {
	var f tgbotapi.File
	form := url.Values{"file_id": {fileID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(b.opts.APIEndpoint, b.opts.Token, "getFile"), strings.NewReader(form.Encode()))
	if err != nil {
		return f, errors.New("getFile: bad endpoint")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return f, fmt.Errorf("getFile: %w", b.withoutToken(err))
	}
	defer resp.Body.Close()
	var r tgbotapi.APIResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxGetFile)).Decode(&r); err != nil {
		return f, fmt.Errorf("getFile: %s: %s", resp.Status, b.scrub(err))
	}
	if !r.Ok {
		return f, fmt.Errorf("getFile: %d %s", r.ErrorCode, b.scrub(errors.New(r.Description)))
	}
	if err := json.Unmarshal(r.Result, &f); err != nil {
		return f, fmt.Errorf("getFile: %w", err)
	}
	return f, nil
}

// submitPicture hands a message with a picture to the picture queue, as an InputImage whose
// text is the caption; with OCR off, or no file to read, it goes to the hub as it is.
func (b *Bot) submitPicture(ctx context.Context, in conversation.Inbound, m *tgbotapi.Message, done func(error)) {
	q := b.opts.Pictures
	if q == nil || b.files == "" {
		b.submit(ctx, in, done)
		return
	}
	fileID, ok := pictureFile(m, q.MaxBytes())
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
