package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
)

// picturesOff is the BOT_TESSERACT value that turns reading screenshots off.
const picturesOff = "off"

// tesseractFromEnv reads BOT_TESSERACT: the tesseract program (a name in PATH or a path),
// or "off".
func tesseractFromEnv(getenv func(string) string) string {
	if v := strings.TrimSpace(getenv("BOT_TESSERACT")); v != "" {
		return v
	}
	return "tesseract"
}

// pictures returns the queue that reads the screenshots people send, handing them to hub,
// or nil when Tesseract is not there (or turned off): the bot says so once, and treats
// pictures as before.
func (m *Main) pictures(ctx context.Context, hub *conversation.Hub, log *slog.Logger) *ocr.Queue {
	if m.Config.Tesseract == picturesOff {
		log.Warn("screenshots are off: BOT_TESSERACT=off; photos get the request for text")
		return nil
	}
	t, err := ocr.Find(ctx, ocr.Options{Command: m.Config.Tesseract, Timeout: m.Config.OCRTimeout})
	if err != nil {
		log.Warn("screenshots are off: photos get the request for text (install tesseract-ocr, tesseract-ocr-chi-sim and tesseract-ocr-eng to read them)", "err", err)
		return nil
	}
	log.Info("screenshots are read with Tesseract")
	return ocr.NewQueue(hub, ocr.QueueOptions{Reader: t, MaxBytes: t.Limits().MaxBytes, Log: log})
}
