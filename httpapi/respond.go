// Package httpapi serves the explainer over HTTP: the JSON API, the
// operations endpoints, and the middleware every route goes through
// (panic recovery, request logging, body limits, per-client rate limits).
package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// errorBody is every error the API answers with.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers with v as JSON, one object and a newline, as
// `explainer ask --json` prints it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(errorBody{"could not encode the response"})
	}
	data = append(data, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(data)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

// methodNotAllowed answers 405 with the methods the route takes.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; use "+allow)
	}
}

// NotFound answers 404 in JSON.
func NotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
}
