package live

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Reloader loads the knowledge base in Dir again and, if it is sound,
// serves it from Engine. A knowledge base that fails to load is logged and
// the one being served stays.
type Reloader struct {
	Dir    string
	Engine *Engine
	Log    *slog.Logger
	// Done, if set, is called after every reload with the entries now
	// served, or the error that kept the previous knowledge base.
	Done func(entries int, err error)

	mu sync.Mutex // one reload at a time
}

// Reload loads, indexes and lints the knowledge base and swaps it in.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	ix, warnings, err := Load(ctx, r.Dir)
	if err == nil {
		err = r.Engine.Swap(ix)
	}
	// Done runs before the log line, so that whoever reads the log sees
	// the metrics it feeds already updated.
	if err != nil {
		if r.Done != nil {
			r.Done(0, err)
		}
		r.Log.Error("knowledge base reload failed; still serving the previous one", "dir", r.Dir, "err", err)
		return err
	}
	n := len(ix.KB().Entries())
	if r.Done != nil {
		r.Done(n, nil)
	}
	for _, p := range warnings {
		r.Log.Warn("knowledge base lint", "problem", p.String())
	}
	r.Log.Info("knowledge base reloaded", "dir", r.Dir, "entries", n, "warnings", len(warnings), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Watch reloads the knowledge base whenever files under r.Dir change, once
// changes have stopped for debounce (an editor's save or a git pull touches
// several files). It returns when ctx ends, or at once if the folder cannot
// be watched.
func (r *Reloader) Watch(ctx context.Context, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := addTree(w, r.Dir); err != nil {
		return err
	}
	r.Log.Info("watching the knowledge base for changes", "dir", r.Dir)
	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// A new folder (entries/ created afresh) is watched too.
				_ = addTree(w, ev.Name)
			}
			r.Log.Debug("knowledge base changed", "file", ev.Name, "op", ev.Op.String())
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.Log.Warn("watching the knowledge base", "dir", r.Dir, "err", err)
		case <-timer.C:
			_ = r.Reload(ctx)
		}
	}
}

// addTree watches root and every folder under it; a file is ignored.
func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(path)
	})
}

// relevant reports whether an event may change the knowledge base: not a
// change of permissions only, nor an editor's backup or swap file.
func relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	switch {
	case strings.HasPrefix(base, "."), strings.HasPrefix(base, "#"),
		strings.HasSuffix(base, "~"), strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".tmp"):
		return false
	}
	return true
}
