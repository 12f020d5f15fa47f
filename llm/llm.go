// Package llm writes fluent answers with a language model on any
// OpenAI-compatible server: OpenAI, Azure OpenAI, Ollama, vLLM, the
// llama.cpp server, LM Studio. A *Client is a bot.Summarizer; the bot checks
// everything it writes with its grounding guard before anyone sees it.
//
// The model is given only the question and the points of the extractive
// answer (each with its id, who says it and its standing), as JSON data
// after a fixed system prompt: never a setting, a key, or who asked. Every
// call carries a deadline (Config.Timeout, retries included); a failed call
// is retried only when the time left allows another try. Answers are cached
// by model, normalised question and points, so a repeated question costs
// nothing.
//
// Settings (see config.Config and FromSettings):
//
//	LLM_BASE_URL  the server's OpenAI-compatible base URL, ending in /v1:
//	              https://api.openai.com/v1, http://localhost:11434/v1 (Ollama),
//	              http://localhost:8000/v1 (vLLM), http://localhost:8080/v1
//	              (llama.cpp server), http://localhost:1234/v1 (LM Studio); for
//	              Azure OpenAI either https://RESOURCE.openai.azure.com/openai/v1
//	              or the resource URL https://RESOURCE.openai.azure.com, with
//	              LLM_MODEL naming the deployment
//	LLM_API_KEY   the key, sent as "Authorization: Bearer KEY" (Azure resource
//	              URLs: the api-key header); OPENAI_API_KEY is read when it is
//	              unset. Leave both empty for local servers: then no
//	              Authorization header is sent at all.
//	LLM_MODEL     the model: gpt-4o-mini, llama3.1, qwen2.5:7b...
//	LLM_TIMEOUT   the longest an answer may wait for the model (default 8s)
//	LLM_CACHE_TTL, LLM_CACHE_SIZE  how long and how many answers are kept
//	              (24h, 1000; size 0 turns the cache off)
//
// Requests ask for a low temperature (0.1, not 0: go-openai omits a zero
// temperature and servers would then use their default of about 1) and at
// most MaxTokens tokens. For models the go-openai request check marks as
// reasoning models (o1, o3, o4, gpt-5...), which refuse both, the
// temperature is left to the server and the limit is sent as
// max_completion_tokens. A reasoning model's <think>...</think> preamble
// (DeepSeek-R1 on Ollama) is dropped.
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/hashicorp/golang-lru/v2/expirable"
	openai "github.com/sashabaranov/go-openai"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/config"
)

// Defaults for Config.
const (
	DefaultTimeout   = 8 * time.Second
	DefaultCacheTTL  = 24 * time.Hour
	DefaultMaxTokens = 400
	// Temperature is the sampling temperature asked for: low, for answers
	// that stay close to the points, and not zero, which go-openai omits.
	Temperature = 0.1

	maxAttempts = 3
	backoff     = 250 * time.Millisecond
	// maxBody caps what is read from the server, streams included.
	maxBody = 1 << 20
	// maxAnswerBytes caps the answer itself; the guard refuses far less.
	maxAnswerBytes = 16 << 10
)

// Config says which server and model to use.
type Config struct {
	BaseURL   string        // the OpenAI-compatible base URL, usually ending in /v1
	APIKey    string        // may be empty for local servers
	Model     string        // the model, or the Azure deployment
	Timeout   time.Duration // per answer, retries included; 0 means DefaultTimeout
	CacheTTL  time.Duration // 0 means DefaultCacheTTL
	CacheSize int           // answers kept; 0 turns the cache off
	MaxTokens int           // 0 means DefaultMaxTokens

	// HTTPClient sends the requests; nil means a new http.Client. It needs
	// no timeout of its own: every call carries a deadline.
	HTTPClient *http.Client
}

// FromSettings is the Config the settings describe (LLM_* and
// OPENAI_API_KEY). Check config.Config.LLMEnabled first.
func FromSettings(c config.Config) Config {
	return Config{
		BaseURL:   c.LLMBaseURL,
		APIKey:    c.LLMKey(),
		Model:     c.LLMModel,
		Timeout:   c.LLMTimeout,
		CacheTTL:  c.LLMCacheTTL,
		CacheSize: c.LLMCacheSize,
	}
}

// Client writes fluent answers with one model. It is safe for concurrent
// use.
type Client struct {
	cfg   Config
	api   *openai.Client
	log   *slog.Logger
	cache *expirable.LRU[string, string]

	requests, cacheHits, retries, failures atomic.Uint64
}

var _ bot.Summarizer = (*Client)(nil)

// New returns a client for cfg. log may be nil.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("llm: the base URL must be an http:// or https:// URL (for OpenAI: https://api.openai.com/v1)")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: no model set")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	c := &Client{cfg: cfg, log: log}

	base := strings.TrimRight(cfg.BaseURL, "/")
	oc := openai.DefaultConfig(cfg.APIKey)
	if isAzureResource(u) {
		oc = openai.DefaultAzureConfig(cfg.APIKey, base)
	}
	oc.BaseURL = base
	oc.HTTPClient = &doer{client: httpClient, requests: &c.requests}
	c.api = openai.NewClientWithConfig(oc)
	if cfg.CacheSize > 0 {
		c.cache = expirable.NewLRU[string, string](cfg.CacheSize, nil, cfg.CacheTTL)
	}
	return c, nil
}

// isAzureResource reports an Azure OpenAI resource URL, which takes
// deployment paths and the api-key header; its /openai/v1 URL is
// OpenAI-compatible and needs neither.
func isAzureResource(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	azure := strings.HasSuffix(host, ".openai.azure.com") || strings.HasSuffix(host, ".cognitiveservices.azure.com")
	return azure && !strings.Contains(u.Path, "/openai/v1")
}

// Stats counts what a client has done, for metrics.
type Stats struct {
	Requests  uint64 // HTTP requests sent to the server, retries included
	CacheHits uint64 // answers served from the cache
	Retries   uint64
	Failures  uint64 // answers given up on (the bot used its extractive answer)
}

// Stats returns the counts so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:  c.requests.Load(),
		CacheHits: c.cacheHits.Load(),
		Retries:   c.retries.Load(),
		Failures:  c.failures.Load(),
	}
}

// Summarize asks the model for a short answer from the brief's points. With
// partial set it streams the answer, calling partial with the text so far.
// It gives up when Config.Timeout has passed or ctx ends, whichever is
// first; errors are *Error.
func (c *Client) Summarize(ctx context.Context, b bot.Brief, partial func(string)) (string, error) {
	key := c.cacheKey(b)
	if c.cache != nil {
		if text, ok := c.cache.Get(key); ok {
			c.cacheHits.Add(1)
			if partial != nil {
				partial(text)
			}
			return text, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hint := &retryHint{}
	ctx = context.WithValue(ctx, hintKey{}, hint)
	req, err := c.request(b)
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		hint.after = 0
		var text string
		var shown bool
		if partial != nil {
			text, shown, err = c.stream(ctx, req, partial)
		} else {
			text, err = c.complete(ctx, req)
		}
		if err == nil {
			if c.cache != nil {
				c.cache.Add(key, text)
			}
			return text, nil
		}
		e := classify(ctx, err, hint.after)
		if k := c.cfg.APIKey; k != "" && strings.Contains(e.Err.Error(), k) {
			e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), k, "[redacted]"))
		}
		wait, ok := c.retryWait(ctx, e, attempt, shown)
		if !ok {
			c.failures.Add(1)
			return "", e
		}
		c.retries.Add(1)
		c.log.Debug("model call failed; retrying", "reason", e.Reason, "status", e.Status, "attempt", attempt, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.failures.Add(1)
			return "", classify(ctx, ctx.Err(), 0)
		case <-t.C:
		}
	}
}

// retryWait decides whether a failed attempt is tried again, and after how
// long: only for rate limits, server errors and dropped connections, only
// before any text was shown, and only when the wait leaves enough of the
// deadline for another try (half the timeout, at most 2s).
func (c *Client) retryWait(ctx context.Context, e *Error, attempt int, shown bool) (time.Duration, bool) {
	if shown || attempt >= maxAttempts {
		return 0, false
	}
	switch e.Reason {
	case ReasonRateLimited, ReasonServerError, ReasonNetwork:
	default:
		return 0, false
	}
	wait := max(e.RetryAfter, backoff<<(attempt-1))
	deadline, ok := ctx.Deadline()
	if !ok {
		return wait, true
	}
	need := min(c.cfg.Timeout/2, 2*time.Second)
	return wait, time.Until(deadline)-wait >= need
}

// request builds the chat completion request for a brief.
func (c *Client) request(b bot.Brief) (openai.ChatCompletionRequest, error) {
	user, err := userMessage(b)
	if err != nil {
		return openai.ChatCompletionRequest{}, &Error{Reason: ReasonMalformed, Err: err}
	}
	req := openai.ChatCompletionRequest{
		Model: c.cfg.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: systemPrompt},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
		Temperature: Temperature,
	}
	// max_tokens is what Ollama, vLLM and the llama.cpp server read;
	// OpenAI still honours it for chat models.
	//lint:ignore SA1019 max_completion_tokens is not read by every OpenAI-compatible server
	req.MaxTokens = c.cfg.MaxTokens
	if openai.NewReasoningValidator().Validate(req) != nil {
		// A reasoning model: it refuses max_tokens and a temperature, and it
		// thinks within the limit too.
		//lint:ignore SA1019 clearing the field the model refuses
		req.Temperature, req.MaxTokens = 0, 0
		req.MaxCompletionTokens = 8 * c.cfg.MaxTokens
	}
	return req, nil
}

func (c *Client) complete(ctx context.Context, req openai.ChatCompletionRequest) (string, error) {
	resp, err := c.api.CreateChatCompletion(ctx, req)
	if err != nil {
		return "", err
	}
	if len(resp.Choices) == 0 {
		return "", &Error{Reason: ReasonMalformed, Err: errors.New("reply has no choices")}
	}
	ch := resp.Choices[0]
	if err := finished(ch.FinishReason, true); err != nil {
		return "", err
	}
	return answerText(ch.Message.Content)
}

// stream reads a streamed answer, passing the text so far to partial. It
// reports whether any text was shown.
func (c *Client) stream(ctx context.Context, req openai.ChatCompletionRequest, partial func(string)) (string, bool, error) {
	req.Stream = true
	s, err := c.api.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", false, err
	}
	defer s.Close()
	var b strings.Builder
	var reason openai.FinishReason
	shown := false
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", shown, err
		}
		if len(resp.Choices) == 0 {
			continue // a usage chunk
		}
		ch := resp.Choices[0]
		if ch.Delta.Content != "" {
			b.WriteString(ch.Delta.Content)
			if b.Len() > maxAnswerBytes {
				return "", shown, &Error{Reason: ReasonMalformed, Err: errors.New("answer too long")}
			}
			if text, ok := visible(b.String()); ok && text != "" {
				partial(text)
				shown = true
			}
		}
		if ch.FinishReason != "" {
			reason = ch.FinishReason
		}
	}
	// A stream cut off before its end reads like one that ended: only a
	// finish reason tells them apart.
	if err := finished(reason, false); err != nil {
		return "", shown, err
	}
	text, err := answerText(b.String())
	return text, shown, err
}

// finished checks why the model stopped: only a natural stop is a whole
// answer. A complete JSON reply without a reason is accepted.
func finished(r openai.FinishReason, allowEmpty bool) error {
	switch r {
	case openai.FinishReasonStop:
		return nil
	case "":
		if allowEmpty {
			return nil
		}
		return &Error{Reason: ReasonTruncated, Err: errors.New("stream ended without a finish reason")}
	case openai.FinishReasonLength:
		return &Error{Reason: ReasonTruncated, Err: errors.New("answer cut at the token limit")}
	}
	return &Error{Reason: ReasonMalformed, Err: fmt.Errorf("model stopped with %q", r)}
}

func answerText(content string) (string, error) {
	text, ok := visible(content)
	if !ok || strings.TrimSpace(text) == "" {
		return "", &Error{Reason: ReasonMalformed, Err: errors.New("empty answer")}
	}
	return strings.TrimSpace(text), nil
}

// visible drops a reasoning model's <think>...</think> preamble; it reports
// false while the preamble is still open.
func visible(s string) (string, bool) {
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if !strings.HasPrefix(t, "<think>") {
		return s, true
	}
	_, after, ok := strings.Cut(t, "</think>")
	if !ok {
		return "", false
	}
	return strings.TrimLeftFunc(after, unicode.IsSpace), true
}

// cacheKey identifies an answer: the model, the question as its words in
// lower case, and the points it is written from (their entries, and their
// text, so that an edited knowledge base never gets a stale answer).
func (c *Client) cacheKey(b bot.Brief) string {
	h := sha256.New()
	field := func(s string) {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	field(c.cfg.Model)
	field(NormalizeQuestion(b.Question))
	field(strings.Join(b.Entries, ","))
	for _, p := range b.Points {
		field(p.ID)
		field(p.Standing)
		field(p.By)
		field(p.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NormalizeQuestion is the question as the cache sees it: its words in
// lower case, punctuation and spacing ignored.
func NormalizeQuestion(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(words, " ")
}
