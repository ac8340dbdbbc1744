package telegramtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

func send(t *testing.T, s *Server, chat int64) (status, retryAfter int) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/bot"+Token+"/sendMessage", url.Values{"chat_id": {strconv.FormatInt(chat, 10)}, "text": {"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Parameters map[string]int `json:"parameters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r.Parameters["retry_after"]
}

func TestEnforceLimits_TooManyAndViolations(t *testing.T) {
	s := NewServer(t)
	s.EnforceLimits(Limits{Global: 1, GlobalBurst: 3, Chat: 1, ChatBurst: 2})
	// Chat 1: its burst of two, then a 429 with retry_after rounded up to a whole second.
	for i := range 2 {
		if st, _ := send(t, s, 1); st != http.StatusOK {
			t.Fatalf("send %d to chat 1: %d, want 200", i+1, st)
		}
	}
	if st, ra := send(t, s, 1); st != http.StatusTooManyRequests || ra != 1 {
		t.Fatalf("third send to chat 1: %d, retry_after %d; want 429, 1", st, ra)
	}
	// Chat 2: the global burst (3) has one token left.
	if st, _ := send(t, s, 2); st != http.StatusOK {
		t.Fatalf("send to chat 2: %d, want 200", st)
	}
	if st, _ := send(t, s, 3); st != http.StatusTooManyRequests {
		t.Fatalf("send to chat 3 with the global bucket empty: %d, want 429", st)
	}
	if n := s.ViolationCount(); n != 0 {
		t.Fatalf("%d violations before any early retry", n)
	}
	// Chat 1 again before its retry_after ran out: a violation.
	if st, _ := send(t, s, 1); st != http.StatusTooManyRequests {
		t.Fatalf("early retry to chat 1: %d, want 429", st)
	}
	if n, v := s.ViolationCount(), s.Violations(); n != 1 || len(v) != 1 {
		t.Fatalf("ViolationCount %d, Violations %q; want one", n, v)
	}
	if n := s.TooMany(); n != 3 {
		t.Fatalf("TooMany = %d, want 3", n)
	}
	if n := len(s.Messages()); n != 3 {
		t.Fatalf("%d messages accepted, want 3", n)
	}
}
