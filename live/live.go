// Package live holds the answer engine being served and replaces it with a
// freshly loaded knowledge base without a restart. Callers use it as they
// would the engine; a swap is atomic, so a question is answered wholly by
// the old knowledge base or wholly by the new one, and nothing in flight is
// dropped.
package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// Engine is the answer engine in service. It is safe for concurrent use.
type Engine struct {
	opts bot.Options
	cur  atomic.Pointer[state]
	mu   sync.Mutex // serialises Swap and Close
	done bool
	wg   sync.WaitGroup // retired indexes still closing
}

// state is one loaded knowledge base with its engine. Requests hold its
// read lock while they use it; retiring it takes the write lock, which waits
// for them, before the index is closed.
type state struct {
	eng    *bot.Engine
	ix     *knowledge.Index
	loaded time.Time

	mu     sync.RWMutex
	closed bool
}

// ErrClosed is returned once the engine is closed.
var ErrClosed = errors.New("engine closed")

// New serves ix, which the Engine now owns and closes.
func New(ix *knowledge.Index, opts bot.Options) *Engine {
	e := &Engine{opts: opts}
	e.cur.Store(e.newState(ix))
	return e
}

func (e *Engine) newState(ix *knowledge.Index) *state {
	return &state{eng: bot.New(ix, e.opts), ix: ix, loaded: time.Now()}
}

// acquire returns the current state, read-locked: release it with
// s.mu.RUnlock. It fails only once the engine is closed.
func (e *Engine) acquire() (*state, error) {
	for {
		s := e.cur.Load()
		s.mu.RLock()
		if !s.closed {
			return s, nil
		}
		s.mu.RUnlock()
		// Retired between the load and the lock: the next load sees its
		// successor, unless the engine itself is closed.
		if e.cur.Load() == s {
			return nil, ErrClosed
		}
	}
}

// Swap serves ix from now on. Questions already being answered finish on
// the previous index, which is closed once they are done.
func (e *Engine) Swap(ix *knowledge.Index) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		ix.Close()
		return ErrClosed
	}
	old := e.cur.Swap(e.newState(ix))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		old.retire()
	}()
	return nil
}

// retire waits for the questions using s, then closes its index.
func (s *state) retire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.ix.Close()
}

// Close waits for questions in flight and closes the index. Calls after it
// fail with ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.done {
		e.mu.Unlock()
		return nil
	}
	e.done = true
	e.mu.Unlock()
	err := e.cur.Load().retire()
	e.wg.Wait()
	if err != nil {
		return fmt.Errorf("close knowledge index: %w", err)
	}
	return nil
}

// Ask answers q from the knowledge base being served.
func (e *Engine) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	s, err := e.acquire()
	if err != nil {
		return bot.Answer{}, err
	}
	defer s.mu.RUnlock()
	return s.eng.Ask(ctx, q)
}

// AskStream answers q like Ask, passing the fluent answer's checked text
// to partial as it grows; see bot.Engine.AskStream. The whole answer,
// partial text included, comes from one knowledge base.
func (e *Engine) AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error) {
	s, err := e.acquire()
	if err != nil {
		return bot.Answer{}, err
	}
	defer s.mu.RUnlock()
	return s.eng.AskStream(ctx, q, partial)
}

// Explain answers with the entry that explains topic; see bot.Engine.Explain.
func (e *Engine) Explain(ctx context.Context, topic string) (bot.Answer, error) {
	s, err := e.acquire()
	if err != nil {
		return bot.Answer{}, err
	}
	defer s.mu.RUnlock()
	return s.eng.Explain(ctx, topic)
}

// Suggest returns up to n questions matching what has been typed; see
// bot.Engine.Suggest.
func (e *Engine) Suggest(ctx context.Context, typed string, n int) ([]string, error) {
	s, err := e.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	return s.eng.Suggest(ctx, typed, n)
}

// Topics returns up to n names of things the knowledge base explains; see
// bot.Engine.Topics.
func (e *Engine) Topics(typed string, n int) []string {
	// Topics reads only the knowledge base, which outlives its index.
	return e.cur.Load().eng.Topics(typed, n)
}

// About describes the knowledge base being served.
func (e *Engine) About() bot.About { return e.cur.Load().eng.About() }

// KB returns the knowledge base being served. A KB is read-only and stays
// valid after a swap.
func (e *Engine) KB() *knowledge.KB { return e.cur.Load().ix.KB() }

// Loaded reports when the knowledge base being served was loaded.
func (e *Engine) Loaded() time.Time { return e.cur.Load().loaded }

// CheckGrounded runs the grounding guard with the vocabulary of the
// knowledge base being served; see bot.Engine.CheckGrounded.
func (e *Engine) CheckGrounded(text string, points []bot.Point) error {
	s, err := e.acquire()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.eng.CheckGrounded(text, points)
}
