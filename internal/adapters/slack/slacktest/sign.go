package slacktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// signature is Slack's v0 request signature, computed independently of the adapter's.
func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}
