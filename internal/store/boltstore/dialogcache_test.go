package boltstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
)

// A cached dialog that no longer matches the file is never committed over it: the write
// transaction finds the difference and the step runs again on what the file holds.
func TestCommit_StaleCachedDialogIsNotUsed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "bot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	k := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	ask := func(question string, saw *[]string) func(*conversation.Dialog) (conversation.Result, error) {
		return func(d *conversation.Dialog) (conversation.Result, error) {
			if saw != nil {
				*saw = append(*saw, d.Question)
			}
			d.Stage, d.Question = conversation.StageAsking, question
			return conversation.Result{Reply: conversation.Reply{Text: question}}, nil
		}
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "1"}, ask("first", nil)); err != nil {
		t.Fatal(err)
	}
	s.dialogs.put(k.String(), []byte(`{"v":2,"d":{"stage":1,"question":"stale"}}`), conversation.Dialog{Stage: conversation.StageAsking, Question: "stale"})

	var saw []string
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "2"}, ask("second", &saw)); err != nil {
		t.Fatal(err)
	}
	if len(saw) == 0 || saw[len(saw)-1] != "first" {
		t.Errorf("the committed step started from %v, want the file's dialog (first) last", saw)
	}
	var got []string
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "3"}, ask("third", &got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "second" {
		t.Errorf("the next message's step saw %v, want [second] (from the cache, once)", got)
	}
}

// A duplicate found only in the write transaction (the dialog came from the cache) saves
// nothing.
func TestCommit_DuplicateOfACachedDialogSavesNothing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "bot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	k := conversation.Key{Platform: "slack", Chat: "C", User: "U"}
	step := func(q string) func(*conversation.Dialog) (conversation.Result, error) {
		return func(d *conversation.Dialog) (conversation.Result, error) {
			d.Question = q
			return conversation.Result{Reply: conversation.Reply{Text: q}}, nil
		}
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "Ev1"}, step("one")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "Ev1"}, step("again")); err != conversation.ErrDuplicate {
		t.Fatalf("a retried event: %v, want ErrDuplicate", err)
	}
	if pending, _ := s.Pending(ctx, "slack", 10); len(pending) != 1 {
		t.Errorf("%d replies pending after a duplicate, want 1", len(pending))
	}
	var saw string
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "Ev2"}, func(d *conversation.Dialog) (conversation.Result, error) {
		saw = d.Question
		return conversation.Result{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if saw != "one" {
		t.Errorf("after a duplicate the dialog is %q, want %q", saw, "one")
	}
}
