package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// InteractionsPath is where Discord posts interactions when the
// application's Interactions Endpoint URL points at this server.
const InteractionsPath = "/discord/interactions"

// Mount registers the HTTP interactions endpoint on mux when a public key
// is configured.
func (a *Adapter) Mount(mux *http.ServeMux) {
	if a.publicKey == nil {
		return
	}
	mux.HandleFunc(InteractionsPath, a.serveInteraction)
}

// serveInteraction answers one interaction posted by Discord. The
// signature is checked before anything is read from the body, and a stale
// or future timestamp is refused like a bad signature: 401 either way.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	if err := a.verify(r.Header, body, time.Now()); err != nil {
		a.log.Warn("discord: refused interaction", "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	if i.Type != discordgo.InteractionPing && !a.seen.add("i:"+i.ID) {
		// Signed, so a replay within the timestamp window: it has been
		// answered already.
		a.log.Warn("discord: interaction seen before", "interaction", i.ID)
		http.Error(w, "interaction already answered", http.StatusConflict)
		return
	}
	rep := a.handle(r.Context(), &i, received)
	out, err := json.Marshal(rep.first)
	if err != nil {
		a.log.Error("discord: encode interaction response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	if rep.later == nil {
		return
	}
	// Send the response in full before the rest, which builds on it.
	if err := http.NewResponseController(w).Flush(); err != nil {
		a.log.Debug("discord: flush interaction response", "err", err)
	}
	a.work.start(func() {
		ctx, cancel := laterContext()
		defer cancel()
		rep.later(ctx)
	})
}

// Signature verification failures.
var (
	errNoSignature  = errors.New("no signature")
	errBadSignature = errors.New("bad signature")
	errStale        = errors.New("timestamp out of range")
)

// verify checks Discord's Ed25519 signature over timestamp + body, then the
// timestamp's age.
func (a *Adapter) verify(h http.Header, body []byte, now time.Time) error {
	sigHex, ts := h.Get("X-Signature-Ed25519"), h.Get("X-Signature-Timestamp")
	if sigHex == "" || ts == "" {
		return errNoSignature
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errBadSignature
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	if !ed25519.Verify(a.publicKey, msg, sig) {
		return errBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	at := time.Unix(sec, 0)
	if now.Sub(at) > maxStale || at.Sub(now) > maxFuture {
		return errStale
	}
	return nil
}
