package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
	"github.com/paydoctor/bot/internal/ocr/ocrtest"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// needTesseract skips the test where screenshots cannot be read.
func needTesseract(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reads screenshots for a while; skipped with -short")
	}
	if _, err := ocr.Find(context.Background(), ocr.Options{}); errors.Is(err, ocr.ErrUnavailable) {
		t.Skipf("screenshots are not read here: %v", err)
	}
}

// serveBot runs the bot in-process with env as startBot does, logging everything, until the
// returned stop.
func serveBot(t *testing.T, env map[string]string) (*lockedBuffer, func()) {
	t.Helper()
	env["BOT_LOG_LEVEL"] = "debug"
	// A CI machine running the race detector in other packages at the same time can take
	// longer than the production bound: these tests check what is read, not how fast.
	env["BOT_OCR_TIMEOUT"] = "2m"
	return startBot(t, env)
}

// leads says where each dialog's first answer led, by dialog pseudonym, from the events in
// the database file: "cause:<id>" when it named a cause, and "solution:<id>" for the first
// solution shown, as TestRecognitionAccuracy counts them.
func leads(t *testing.T, db string) map[string][]string {
	t.Helper()
	s, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string][]string{}
	shown := map[string]bool{}
	err = s.Events(context.Background(), time.Time{}, func(e conversation.Event) error {
		switch {
		case e.Kind == conversation.EventDiagnosed && e.Cause != "":
			out[e.Dialog] = append(out[e.Dialog], "cause:"+e.Cause)
		case e.Kind == conversation.EventShown && !shown[e.Dialog]:
			shown[e.Dialog] = true
			out[e.Dialog] = append(out[e.Dialog], "solution:"+e.Solution)
		case e.Kind == conversation.EventNotUnderstood:
			out[e.Dialog] = append(out[e.Dialog], "none")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// accuracy checks that at least 90% of the screenshots led where the manifest says.
func accuracy(t *testing.T, shots []ocrtest.Shot, key func(i int) conversation.Key, got map[string][]string) {
	t.Helper()
	right := 0
	for i, s := range shots {
		l := got[conversation.DialogPseudonym(key(i))]
		if slices.Contains(l, s.Want) {
			right++
			continue
		}
		t.Logf("miss: %s: want %s, got %v", s.File, s.Want, l)
	}
	t.Logf("%d of %d screenshots diagnosed right (%.0f%%)", right, len(shots), 100*float64(right)/float64(len(shots)))
	if right*10 < len(shots)*9 {
		t.Errorf("%d of %d screenshots diagnosed right, want at least 90%%", right, len(shots))
	}
}

var digitRun = regexp.MustCompile(`[0-9](?:[ \-]?[0-9])*`)

// leaksCard reports whether text holds eight digits in a row of card, with or without the
// spaces and dashes people and OCR put between the groups.
func leaksCard(text, card string) bool {
	for _, run := range digitRun.FindAllString(text, -1) {
		run = strings.NewReplacer(" ", "", "-", "").Replace(run)
		for i := 0; i+8 <= len(card); i++ {
			if strings.Contains(run, card[i:i+8]) {
				return true
			}
		}
	}
	return false
}

// TestScreenshots_Telegram sends every test screenshot as a Telegram photo through the fake
// Bot API (getFile and the file download) to the bot as cmd/bot wires it: at least 90% lead to
// the diagnosis the manifest names, a picture without payment text gets the request for the
// text, and no card number in view reaches the database file, the log or a handoff summary.
func TestScreenshots_Telegram(t *testing.T) {
	needTesseract(t)
	shots := ocrtest.Screenshots(t)
	fake := telegramtest.NewServer(t)
	const helpers = -1009999
	db := filepath.Join(t.TempDir(), "bot.db")
	logs, stop := serveBot(t, map[string]string{
		"BOT_DB":                    db,
		"BOT_HTTP_ADDR":             freeAddr(t),
		"TELEGRAM_BOT_TOKEN":        telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":     fake.Endpoint(),
		"BOT_HANDOFF_TELEGRAM_CHAT": strconv.Itoa(helpers),
	})
	user := func(i int) telegramtest.User {
		lang := "zh-hans"
		if strings.HasPrefix(shots[i].File, "en_") {
			lang = "en"
		}
		return telegramtest.User{ID: int64(7100 + i), FirstName: "P" + strconv.Itoa(i), Lang: lang}
	}
	for i, s := range shots {
		ext := strings.TrimPrefix(filepath.Ext(s.File), ".")
		id := fake.AddFile(s.Data, ext)
		// Telegram's sizes, smallest first; the largest is over the limit and never fetched.
		fake.AddUpdate(telegramtest.PrivatePhoto(user(i), "",
			telegramtest.PhotoSize{FileID: "thumb-not-stored", Width: 90, Height: 160, Size: 0x7fffffff},
			telegramtest.PhotoSize{FileID: id, Width: 1080, Height: 1920, Size: len(s.Data)},
			telegramtest.PhotoSize{FileID: "too-large", Width: 4000, Height: 8000, Size: 40 << 20}))
	}
	for i := range shots {
		waitMessagesTo(t, fake, user(i).ID, 1, 3*time.Minute)
	}
	// Those who showed their card ask for a human: the summary carries their last message.
	asked := 0
	for i, s := range shots {
		if s.Card != "-" {
			fake.AddUpdate(telegramtest.PrivateText(user(i), "/human"))
			asked++
		}
	}
	if asked == 0 {
		t.Fatal("no screenshot in the manifest shows a card number")
	}
	summaries := waitMessagesTo(t, fake, helpers, asked, 20*time.Second)
	for i, s := range shots {
		replies := fake.MessagesTo(user(i).ID)
		if s.Want == "none" && !strings.Contains(replies[0].Text, "paste") && !strings.Contains(replies[0].Text, "粘贴") {
			t.Errorf("%s: answered %q, want the request to paste the text", s.File, replies[0].Text)
		}
	}
	stop()

	accuracy(t, shots, func(i int) conversation.Key {
		id := strconv.FormatInt(user(i).ID, 10)
		return conversation.Key{Platform: "telegram", Chat: id, User: id}
	}, leads(t, db))

	file, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shots {
		if s.Card == "-" {
			continue
		}
		if leaksCard(string(file), s.Card) {
			t.Errorf("%s: the card number is in the database file", s.File)
		}
		if leaksCard(logs.String(), s.Card) {
			t.Errorf("%s: the card number is in the log", s.File)
		}
		for _, m := range summaries {
			if leaksCard(m.Text, s.Card) {
				t.Errorf("%s: the card number is in a handoff summary: %q", s.File, m.Text)
			}
		}
	}
	if fake.Downloads() != len(shots) {
		t.Errorf("%d files downloaded, want %d (the largest size under the limit of each)", fake.Downloads(), len(shots))
	}
}

func waitMessagesTo(t *testing.T, fake *telegramtest.Server, chat int64, n int, timeout time.Duration) []telegramtest.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := fake.MessagesTo(chat)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %d within %s, want %d", len(got), chat, timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScreenshots_Slack shares every test screenshot in a DM through the fake Slack
// (url_private with the bot token), signed HTTP mode: each event is answered 200 within
// Slack's 3 seconds, and at least 90% lead to the diagnosis the manifest names.
func TestScreenshots_Slack(t *testing.T) {
	needTesseract(t)
	shots := ocrtest.Screenshots(t)
	fake := slacktest.NewServer(t)
	const secret = "pictures-secret"
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	logs, stop := serveBot(t, map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-pictures",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"BOT_HTTP_ADDR":        addr,
		"BOT_DB":               db,
	})
	base := "http://" + addr
	waitServing(t, base)
	user := func(i int) string { return fmt.Sprintf("UPIC%02d", i) }
	for i, s := range shots {
		if strings.HasPrefix(s.File, "en_") {
			fake.SetLocale(user(i), "en-US")
		} else {
			fake.SetLocale(user(i), "zh-CN")
		}
		mime := "image/png"
		if strings.HasSuffix(s.File, ".jpg") {
			mime = "image/jpeg"
		}
		f := fake.AddFile(s.File, mime, s.Data)
		ev := slacktest.FileShare("D"+user(i), user(i), "", fmt.Sprintf("1700000%03d.000100", i), f)
		start := time.Now()
		req := slacktest.NewRequest(base+"/slack/events", secret, time.Now(), slacktest.EventBody("EvPIC"+strconv.Itoa(i), ev))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || time.Since(start) > 3*time.Second {
			t.Fatalf("%s: answered %d after %s, want 200 within 3s", s.File, resp.StatusCode, time.Since(start))
		}
	}
	fake.WaitMessages(len(shots), 4*time.Minute)
	stop()
	accuracy(t, shots, func(i int) conversation.Key {
		return conversation.Key{Platform: "slack", Chat: slacktest.Team + "/D" + user(i), User: user(i)}
	}, leads(t, db))
	if fake.FileDownloads() != len(shots) {
		t.Errorf("%d files downloaded with the token, want %d", fake.FileDownloads(), len(shots))
	}
	if strings.Contains(logs.String(), "xoxb-pictures") {
		t.Error("the bot token was logged")
	}
}

// TestScreenshots_TwentyPhotosDoNotDelayText: 20 people send a photo at once, then someone
// else writes; the text is answered within a second, long before the photos are all read.
func TestScreenshots_TwentyPhotosDoNotDelayText(t *testing.T) {
	needTesseract(t)
	shots := ocrtest.Screenshots(t)
	fake := telegramtest.NewServer(t)
	serveBot(t, map[string]string{
		"BOT_DB":                filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":         freeAddr(t),
		"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
	})
	// The bot is polling once it answered someone.
	fake.AddUpdate(telegramtest.PrivateText(telegramtest.User{ID: 1, FirstName: "Warm", Lang: "en"}, "/start"))
	waitMessagesTo(t, fake, 1, 1, 10*time.Second)

	const photos = 20
	for i := range photos {
		s := shots[i%len(shots)]
		id := fake.AddFile(s.Data, strings.TrimPrefix(filepath.Ext(s.File), "."))
		u := telegramtest.User{ID: int64(8000 + i), FirstName: "P", Lang: "en"}
		fake.AddUpdate(telegramtest.PrivatePhoto(u, "", telegramtest.PhotoSize{FileID: id, Width: 1080, Height: 1920, Size: len(s.Data)}))
	}
	other := telegramtest.User{ID: 9000, FirstName: "Other", Lang: "en"}
	sent := time.Now()
	fake.AddUpdate(telegramtest.PrivateText(other, "Your card was declined"))
	waitMessagesTo(t, fake, other.ID, 1, 10*time.Second)
	took := time.Since(sent)
	answered := 0
	for i := range photos {
		if len(fake.MessagesTo(int64(8000+i))) > 0 {
			answered++
		}
	}
	t.Logf("the text was answered %s after it was sent, with %d of %d photos answered", took.Round(time.Millisecond), answered, photos)
	if took > time.Second {
		t.Errorf("the text was answered %s after it was sent, want within a second", took)
	}
	if answered > photos/2 {
		t.Errorf("%d of %d photos were answered before the text: the text waited for OCR", answered, photos)
	}
	for i := range photos {
		waitMessagesTo(t, fake, int64(8000+i), 1, 3*time.Minute)
	}
}

// TestScreenshots_TesseractMissing: with the tesseract program missing, the bot says once
// that screenshots are off, answers a photo as before, and the terminal chat works.
func TestScreenshots_TesseractMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-tesseract")
	fake := telegramtest.NewServer(t)
	logs, stop := serveBot(t, map[string]string{
		"BOT_DB":                filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":         freeAddr(t),
		"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"BOT_TESSERACT":         missing,
	})
	u := telegramtest.User{ID: 42, FirstName: "Wei", Lang: "en"}
	id := fake.AddFile([]byte("not read"), "jpg")
	fake.AddUpdate(telegramtest.PrivatePhoto(u, "", telegramtest.PhotoSize{FileID: id, Width: 1080, Height: 1920, Size: 8}))
	reply := waitMessagesTo(t, fake, u.ID, 1, 10*time.Second)[0]
	stop()
	if fake.Downloads() != 0 || len(fake.Calls("getFile")) != 0 {
		t.Errorf("the photo was fetched with OCR off")
	}
	if strings.Contains(reply.Text, "I can see") {
		t.Errorf("answered %q with OCR off", reply.Text)
	}
	if n := strings.Count(logs.String(), "screenshots are off"); n != 1 {
		t.Errorf("the log says %d times that screenshots are off, want once:\n%s", n, logs)
	}

	out, _, err := runMain(t, map[string]string{"BOT_DB": filepath.Join(t.TempDir(), "chat.db"), "BOT_TESSERACT": missing}, "Your card was declined\n", "chat", "--json", "--lang", "en")
	if err != nil || !strings.Contains(out, `"cause":"cross-border-restricted"`) {
		t.Errorf("the terminal chat without tesseract: %v\n%s", err, out)
	}
}
