package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of request verification, checked with errors.Is.
var (
	// ErrBadSignature: the request is not signed with the signing secret.
	ErrBadSignature = errors.New("slack: bad request signature")
	// ErrStaleRequest: the request's timestamp is more than MaxRequestAge from now.
	ErrStaleRequest = errors.New("slack: request timestamp outside the allowed window")
)

// MaxRequestAge is how far a request's X-Slack-Request-Timestamp may be from the clock, as
// Slack recommends, so that a captured request cannot be replayed later.
const MaxRequestAge = 5 * time.Minute

// Signature returns Slack's v0 signature of body sent at timestamp (Unix seconds):
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyRequest checks the X-Slack-Signature and X-Slack-Request-Timestamp headers of a
// request with body against secret, at time now. slack.NewSecretsVerifier does the same with
// time.Now built in; this one takes the clock so that tests can use Slack's documented example.
func VerifyRequest(header http.Header, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return errors.New("slack: no signing secret configured")
	}
	ts := header.Get("X-Slack-Request-Timestamp")
	sig := header.Get("X-Slack-Signature")
	if ts == "" || sig == "" || !strings.HasPrefix(sig, "v0=") {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxRequestAge || d < -MaxRequestAge {
		return ErrStaleRequest
	}
	if !hmac.Equal([]byte(sig), []byte(Signature(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
