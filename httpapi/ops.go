package httpapi

import (
	"net/http"
	"sort"
)

// Check is one thing /readyz asks about: the knowledge base, a platform.
type Check struct {
	Name  string
	Ready func() error
}

// Readiness is the body of /readyz.
type Readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name -> "ok" or what is wrong
}

// Health answers /healthz: the process is alive and serving.
func Health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Ready answers /readyz: 200 when every check passes, else 503; the body
// says how each one stands.
func Ready(checks func() []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs := checks()
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		out := Readiness{Ready: true, Checks: make(map[string]string, len(cs))}
		for _, c := range cs {
			if err := c.Ready(); err != nil {
				out.Ready = false
				out.Checks[c.Name] = err.Error()
				continue
			}
			out.Checks[c.Name] = "ok"
		}
		status := http.StatusOK
		if !out.Ready {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, out)
	}
}
