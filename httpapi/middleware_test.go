package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	panics := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("nil map somewhere") })
	mux.HandleFunc("/late", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "partial")
		panic(errors.New("after the header"))
	})
	mux.HandleFunc("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/fine", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "fine") })
	srv := httptest.NewServer(Recover(log, func() { panics++ }, mux))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || strings.TrimSpace(string(body)) != `{"error":"internal error"}` {
		t.Errorf("panicking handler answered %d %s", res.StatusCode, body)
	}
	if !strings.Contains(logs.String(), `"panic":"nil map somewhere"`) || !strings.Contains(logs.String(), "middleware_test.go") {
		t.Errorf("panic not logged with its stack:\n%s", logs.String())
	}
	if panics != 1 {
		t.Errorf("onPanic called %d times", panics)
	}

	// A panic after the response started keeps what was sent.
	res, err = http.Get(srv.URL + "/late")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || string(body) != "partial" {
		t.Errorf("late panic: %d %q", res.StatusCode, body)
	}

	// ErrAbortHandler is the handler's way to drop the connection: not
	// logged as a panic.
	if _, err := http.Get(srv.URL + "/abort"); err == nil {
		t.Error("aborted response arrived")
	}
	if panics != 2 {
		t.Errorf("onPanic called %d times, want 2 (abort is not a panic)", panics)
	}

	// The server lives on.
	res, err = http.Get(srv.URL + "/fine")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "fine" {
		t.Errorf("after panics: %d %q", res.StatusCode, body)
	}
}

func TestLogRequests(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
		h := LogRequests(log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short and stout")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/pot?secret=x", nil))
		if rec.Code != http.StatusTeapot {
			t.Fatalf("status %d", rec.Code)
		}
		got := logs.String()
		if level == slog.LevelDebug {
			for _, want := range []string{"msg=request", "method=GET", "path=/pot", "status=418", "bytes=15", "took="} {
				if !strings.Contains(got, want) {
					t.Errorf("debug log %q lacks %q", got, want)
				}
			}
			if strings.Contains(got, "secret") {
				t.Errorf("the query string is logged: %q", got)
			}
		} else if got != "" {
			t.Errorf("logged at info level: %q", got)
		}
	}
}

func TestMaxBody(t *testing.T) {
	var readErr error
	h := MaxBody(10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("0123456789ab")))
	if rec.Code != 413 || readErr != nil {
		t.Errorf("declared too large: %d (handler read: %v)", rec.Code, readErr)
	}
	req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("0123456789ab")))
	req.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !isTooLarge(readErr) {
		t.Errorf("reading past the cap: %v, want *http.MaxBytesError", readErr)
	}
	readErr = nil
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader("0123456789")))
	if readErr != nil {
		t.Errorf("a body at the cap: %v", readErr)
	}
}
