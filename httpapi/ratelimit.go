package httpapi

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows each client (by IP address; an IPv6 client by its /64) a
// steady rate of requests with bursts. Clients idle long enough for their
// burst to refill are forgotten, which loses nothing, so memory follows
// the clients active in that window; a hard cap bounds it even then.
type Limiter struct {
	rate  rate.Limit
	burst int
	idle  time.Duration // a client idle this long is back to a full burst
	max   int
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	sweepEvery = 10 * time.Second
	maxClients = 100_000
)

// NewLimiter allows perSecond requests a second per client with bursts of
// burst. It returns nil, which allows everything, when perSecond is 0.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	idle := time.Duration(math.Ceil(float64(burst)/perSecond*float64(time.Second))) + time.Second
	return &Limiter{
		rate: rate.Limit(perSecond), burst: burst, idle: idle, max: maxClients,
		now: time.Now, clients: make(map[string]*client),
	}
}

// Allow takes one request from key's allowance. When there is none left it
// says how long until there is.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	c := l.clients[key]
	if c == nil {
		if len(l.clients) >= l.max {
			l.sweep(now)
			l.shed()
		}
		c = &client{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets clients idle long enough to have a full burst again.
func (l *Limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, c := range l.clients {
		if now.Sub(c.seen) >= l.idle {
			delete(l.clients, k)
		}
	}
}

// shed forgets a tenth of the clients, chosen at random, when the cap is
// reached with every client still active.
func (l *Limiter) shed() {
	n := len(l.clients) - l.max*9/10
	for k := range l.clients {
		if n <= 0 {
			return
		}
		delete(l.clients, k)
		n--
	}
}

// Clients is how many clients are remembered.
func (l *Limiter) Clients() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// ClientKey identifies the client that sent r: its IP address, or for
// IPv6 its /64 network, which is what one subscriber usually gets.
func ClientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// retryAfterSeconds renders a wait for the Retry-After header: whole
// seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
