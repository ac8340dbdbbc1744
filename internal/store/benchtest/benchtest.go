// Package benchtest is the body of BenchmarkThroughput, shared by the stores' benchmarks so
// that one "go test -bench '^BenchmarkThroughput$' ./..." prints every store's figure on the
// same path.
package benchtest

import (
	"context"
	"encoding/json"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/gctune"
	"github.com/paydoctor/bot/internal/kb"
)

// walk is what each simulated person sends, over and over: a diagnosis by buttons, a
// solution that did not work, and free text.
var walk = []conversation.Input{
	{Kind: conversation.InputText, Text: "/start"},
	{Kind: conversation.InputButton, Text: "a:what_happened:declined"},
	{Kind: conversation.InputButton, Text: "a:card_type:unionpay"},
	{Kind: conversation.InputButton, Text: "no:enable-cross-border"},
	{Kind: conversation.InputText, Text: "我的卡显示 Your card was declined，怎么办？"},
}

// person is one simulated person's side of the benchmark: when handling of their message
// began, and where their reply is awaited. The benchmark's own bookkeeping is kept cheap (a
// map filled before the run, only read during it) so that the CPU goes to the bot's path.
type person struct {
	began   atomic.Int64 // Unix nanoseconds
	replied chan time.Time
}

// renderingSender stands for a platform adapter: it renders each reply to the wire format
// (JSON, as the terminal chat's --json does) and wakes the person waiting for it with the
// time the reply was ready.
type renderingSender struct {
	people map[conversation.Key]*person
	bytes  atomic.Int64
}

func (s *renderingSender) Send(_ context.Context, d conversation.Delivery) error {
	b, err := json.Marshal(d.Reply)
	if err != nil {
		return err
	}
	s.bytes.Add(int64(len(b)))
	if p, ok := s.people[d.Key]; ok {
		p.replied <- time.Now()
	}
	return nil
}

// timingStore notes when handling of each message began: when a worker took it and asked the
// store to commit it.
type timingStore struct {
	conversation.Store
	people map[conversation.Key]*person
}

func (s *timingStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	if p, ok := s.people[t.Key]; ok {
		p.began.Store(time.Now().UnixNano())
	}
	return s.Store.Commit(ctx, t, step)
}

// Run pushes messages from 1,000 concurrent dialogs through the whole path: platform-neutral
// input -> conversation.Hub (dispatcher -> engine -> the store open returns, a commit ->
// the platform's Outbox: claim -> rendering -> outbox delete, in batches). Each person sends their next message when the reply to the
// last arrived. It reports messages per second; p99-ms, the 99th percentile of the handling
// time (from a worker taking a message to its reply being rendered); and p99-e2e-ms, which
// adds the wait in the dispatcher's queue. With 1,000 people sending without pause the queue
// is never empty, so the end-to-end figure is the number of people divided by the rate
// (Little's law) and says more about the load than about the bot.
//
// open returns an empty store; Run closes it.
func Run(b *testing.B, open func(b *testing.B) conversation.Store) {
	const people = 1000
	// The bot runs with gctune's collector settings (cmd/bot applies them at start), and so
	// does the benchmark, unless GOGC or GOMEMLIMIT say otherwise; the gogc figure tells.
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(percent)
	gogc := gctune.Apply(os.Getenv)
	defer func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) }()
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := conversation.NewEngine(k, conversation.EngineOptions{Lang: "zh-Hans"})
	if err != nil {
		b.Fatal(err)
	}
	s := open(b)
	defer s.Close()
	keys := make([]conversation.Key, people)
	byKey := make(map[conversation.Key]*person, people)
	for p := range keys {
		keys[p] = conversation.Key{Platform: "bench", Chat: strconv.Itoa(p), User: strconv.Itoa(p)}
		byKey[keys[p]] = &person{replied: make(chan time.Time, 1)}
	}
	store := &timingStore{Store: s, people: byKey}
	sender := &renderingSender{people: byKey}
	hub := conversation.NewHub(conversation.NewService(e, store, conversation.ServiceOptions{}), conversation.DispatcherOptions{FloodLimit: -1, Workers: 96, QueueLen: 8})
	if _, err := hub.AddPlatform(conversation.OutboxOptions{Platform: "bench", Sender: sender}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() { hub.Run(ctx); close(running) }()
	defer func() { cancel(); <-running }()

	var sent atomic.Int64
	handling := make([][]time.Duration, people)
	endToEnd := make([][]time.Duration, people)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for p, key := range keys {
		me := byKey[key]
		wg.Go(func() {
			for step := 0; ; step++ {
				n := sent.Add(1)
				if n > int64(b.N) {
					return
				}
				in := conversation.Inbound{Turn: conversation.Turn{Key: key, InboundID: strconv.FormatInt(n, 10)}, Input: walk[step%len(walk)]}
				t0 := time.Now()
				if err := hub.Submit(ctx, in, nil); err != nil {
					b.Error(err)
					return
				}
				done := <-me.replied
				handling[p] = append(handling[p], done.Sub(time.Unix(0, me.began.Load())))
				endToEnd[p] = append(endToEnd[p], done.Sub(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(p99(handling), "p99-ms")
	b.ReportMetric(p99(endToEnd), "p99-e2e-ms")
	b.ReportMetric(float64(gogc), "gogc")
	b.ReportMetric(0, "ns/op") // the rate above is the figure; ns/op would mix in the setup
}

func p99(perPerson [][]time.Duration) float64 {
	all := slices.Concat(perPerson...)
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	return float64(all[len(all)*99/100].Microseconds()) / 1000
}
