package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/pgstore"
)

// Open the store, commit one turn, and deliver its reply from the outbox.
func Example() {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, os.Getenv("BOT_POSTGRES_URL"), pgstore.Options{})
	if err != nil {
		log.Fatal(err) // names host:port/database, never the password
	}
	defer s.Close()

	turn := conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: "-100", User: "42"}, InboundID: "9001"}
	d, err := s.Commit(ctx, turn, func(d *conversation.Dialog) (conversation.Result, error) {
		d.Lang = "en"
		return conversation.Result{Reply: conversation.Reply{Text: "Which card did you use?", Lang: "en"}}, nil
	})
	if err != nil {
		log.Fatal(err) // conversation.ErrDuplicate if update 9001 was handled before
	}
	fmt.Println(d.Reply.Text) // send it, then:
	if err := s.MarkDelivered(ctx, d.ID); err != nil {
		log.Fatal(err)
	}
}
