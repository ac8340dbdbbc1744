package pgstore

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leadership is a role one replica holds at a time, such as "the one that polls Telegram".
// It lasts while the database session holding its advisory lock does: if the replica dies,
// PostgreSQL drops the session and the lock with it, and another replica's Campaign wins.
type Leadership struct {
	conn   *pgx.Conn
	lost   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Lost is closed when the leadership ended without Release: the session holding the lock
// broke (the database restarted, the network failed). The holder must stop acting as leader.
func (l *Leadership) Lost() <-chan struct{} { return l.lost }

// Release gives the role up, so another replica can take it at once.
func (l *Leadership) Release() {
	l.cancel()
	<-l.done
}

// leaderCheckInterval is how often a leader checks that its session still holds the lock,
// and how often a candidate tries to take it.
const leaderCheckInterval = time.Second

// Campaign blocks until this process holds the role name (or ctx is done), trying about once
// a second. The role is a session-level advisory lock on a connection of its own, outside the
// pool, so that it is held exactly as long as that connection lives.
func (s *Store) Campaign(ctx context.Context, name string) (*Leadership, error) {
	key := s.lockKey(name)
	for {
		conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
		if err == nil {
			var won bool
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&won)
			if err == nil && won {
				return s.lead(conn, key), nil
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		if err != nil && ctx.Err() == nil && !unreachable(err) {
			return nil, wrapErr("campaign "+name, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leaderCheckInterval):
		}
	}
}

func (s *Store) lead(conn *pgx.Conn, key int64) *Leadership {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Leadership{conn: conn, lost: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer conn.Close(context.Background())
		ticker := time.NewTicker(leaderCheckInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				unlockCtx, stop := context.WithTimeout(context.Background(), 2*time.Second)
				conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, key)
				stop()
				return
			case <-ticker.C:
			}
			pingCtx, stop := context.WithTimeout(ctx, 2*time.Second)
			err := conn.Ping(pingCtx)
			stop()
			if err != nil && !errors.Is(ctx.Err(), context.Canceled) {
				close(l.lost)
				return
			}
		}
	}()
	return l
}

// lockKey maps a role name to an advisory lock key; the prefix keeps the bot's keys apart from
// other applications' on the same database.
func (s *Store) lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("paydoctor/role/" + s.schema + "/" + name))
	return int64(h.Sum64())
}
