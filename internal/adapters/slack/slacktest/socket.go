package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.conn = conn
	s.notify()
	s.mu.Unlock()
	s.writeSocket(conn, map[string]any{"type": "hello", "num_connections": 1})
	// Slack pings; the client gives up on a connection that stays silent.
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.connWrite.Lock()
				err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				s.connWrite.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = true
		s.notify()
		s.mu.Unlock()
	}
}

func (s *Server) writeSocket(conn *websocket.Conn, v any) error {
	s.connWrite.Lock()
	defer s.connWrite.Unlock()
	return conn.WriteJSON(v)
}

// WaitConnected waits until a Socket Mode client is connected.
func (s *Server) WaitConnected(timeout time.Duration) {
	s.t.Helper()
	if !s.wait(timeout, func() bool { return s.conn != nil }) {
		s.t.Fatalf("slacktest: no Socket Mode connection after %s", timeout)
	}
}

// SendEnvelope sends a Socket Mode envelope of type ("events_api", "slash_commands",
// "interactive") with payload, and returns its envelope id.
func (s *Server) SendEnvelope(typ string, payload []byte) string {
	s.t.Helper()
	s.mu.Lock()
	s.nextEnv++
	id := fmt.Sprintf("env-%d", s.nextEnv)
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		s.t.Fatal("slacktest: SendEnvelope without a Socket Mode connection")
	}
	err := s.writeSocket(conn, map[string]any{
		"type":                     typ,
		"envelope_id":              id,
		"payload":                  json.RawMessage(payload),
		"accepts_response_payload": typ != "events_api",
	})
	if err != nil {
		s.t.Fatalf("slacktest: send envelope: %v", err)
	}
	return id
}

// Acked reports whether the envelope was acknowledged.
func (s *Server) Acked(envelopeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[envelopeID]
}

// WaitAck waits until envelopeID is acknowledged, failing the test after timeout.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) {
	s.t.Helper()
	if !s.wait(timeout, func() bool { return s.acks[envelopeID] }) {
		s.t.Fatalf("slacktest: envelope %s not acknowledged after %s", envelopeID, timeout)
	}
}
