package slack

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
)

// picture returns the first image among files that can be read: a type ocr decodes, within
// the byte limit, at a url_private the bot token may be sent to. ok is false when there is
// none, or OCR is off.
func (a *Adapter) picture(files []slack.File) (slack.File, bool) {
	if a.opts.Pictures == nil {
		return slack.File{}, false
	}
	for _, f := range files {
		if !ocr.Decodes(f.Mimetype) {
			continue
		}
		if int64(f.Size) <= a.opts.Pictures.MaxBytes() && a.mayAuthorize(f.URLPrivate) {
			return f, true
		}
	}
	return slack.File{}, false
}

// mayAuthorize reports whether the bot token may go to rawURL: Slack's own https hosts, or
// the host of APIURL (a test server). A url_private comes in a signed event, but the token
// opens the whole workspace: it goes nowhere else.
func (a *Adapter) mayAuthorize(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" && (u.Hostname() == "slack.com" || strings.HasSuffix(u.Hostname(), ".slack.com")) {
		return true
	}
	api, err := url.Parse(a.opts.APIURL)
	return err == nil && api.Host == u.Host && api.Scheme == u.Scheme
}

// submitPicture hands a message sharing picture f to the picture queue, as an InputImage
// whose text is the message's; the queue takes it at once, so Slack gets its answer in time.
func (a *Adapter) submitPicture(ctx context.Context, in conversation.Inbound, f slack.File) error {
	switch in.Input.Kind {
	case conversation.InputText:
	default: // the file alone, or only the @mention
		in.Input.Text = ""
	}
	in.Input.Kind = conversation.InputImage
	header := http.Header{"Authorization": {"Bearer " + a.opts.BotToken}}
	fetch := func(ctx context.Context, limit int64) ([]byte, error) {
		return ocr.Download(ctx, a.client, f.URLPrivate, header, limit)
	}
	return await(ctx, func(done func(error)) error { return a.opts.Pictures.SubmitImage(ctx, in, fetch, done) })
}

// downloadTimeout bounds a picture's download when no HTTP client is given.
const downloadTimeout = 30 * time.Second
