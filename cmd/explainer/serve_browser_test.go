package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findBrowser returns the path of a Chromium-family browser, or "".
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// browser starts a headless browser with a fresh profile and returns its
// context. JavaScript exceptions and console errors on the page are
// collected into jsErrors.
func browser(t *testing.T) (ctx context.Context, jsErrors func() []string) {
	t.Helper()
	path := findBrowser()
	if path == "" {
		if os.Getenv("EXPLAINER_REQUIRE_BROWSER") == "1" {
			t.Fatal("EXPLAINER_REQUIRE_BROWSER=1 but no chromium is installed")
		}
		t.Skip("no chromium on this machine, so the web page is not tested in a browser (apt-get install chromium; CI installs it)")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	var mu sync.Mutex
	var errs []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			errs = append(errs, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value))
				}
				errs = append(errs, "console.error: "+strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

func run1[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run1(t, ctx, what, chromedp.Steps(steps...))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestWebPageInABrowser(t *testing.T) {
	ctx, jsErrors := browser(t)
	s, _ := newTestServer(t, nil)
	srv := httptest.NewServer(mustHandler(t, s))
	defer srv.Close()

	// Type the headline question and ask it.
	do(t, ctx, "open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#question")),
	)
	// The first run starts the browser: keep it out of the timeouts above.
	do(t, ctx, "ask the headline question",
		chromedp.SendKeys(chromedp.CSS("#question"), headline),
		chromedp.Click(chromedp.CSS("#ask")),
		chromedp.WaitVisible(chromedp.CSS("#answer .lead")),
	)
	text := run1(t, ctx, "read the answer", chromedp.Text(chromedp.CSS("#answer")))
	for _, want := range []string{"A100", "H800", "Alexandr Wang", "Scale AI", "Sources", "article, paragraph 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("the answer lacks %q:\n%s", want, text)
		}
	}
	disputed := run1(t, ctx, "count disputed points",
		chromedp.Evaluate[int](`document.querySelectorAll("#answer .point.standing-disputed .badge").length`))
	if disputed == 0 {
		t.Error("no point is visibly marked disputed")
	}
	badge := run1(t, ctx, "read a disputed badge", chromedp.Text(chromedp.CSS("#answer .point.standing-disputed .badge")))
	if !strings.Contains(strings.ToLower(badge), "disputed") {
		t.Errorf("the disputed badge reads %q", badge)
	}

	// Click the first follow-up: it asks itself.
	followup := run1(t, ctx, "read the first follow-up", chromedp.Text(chromedp.CSS("#answer .followup")))
	if followup == "" {
		t.Fatal("no follow-up question")
	}
	firstLead := run1(t, ctx, "read the lead", chromedp.Text(chromedp.CSS("#answer .lead")))
	do(t, ctx, "click the follow-up "+followup,
		chromedp.Click(chromedp.CSS("#answer .followup")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](fmt.Sprintf(
				`document.querySelector("#answer .asked")?.textContent === %s && document.querySelector("#answer").getAttribute("aria-busy") === null`,
				jsString(followup)))(ctx, tg)
			return err
		}),
	)
	asked := run1(t, ctx, "read the question shown", chromedp.Value(chromedp.CSS("#question")))
	lead := run1(t, ctx, "read the new lead", chromedp.Text(chromedp.CSS("#answer .lead")))
	class := run1(t, ctx, "read the answer's class", chromedp.Evaluate[string](`document.querySelector("#answer").className`))
	if asked != followup || lead == "" || lead == firstLead || class != "answered" {
		t.Errorf("after clicking %q: input %q, class %q, lead %q (was %q)", followup, asked, class, lead, firstLead)
	}

	// Browse the knowledge base: the list, then one entry.
	do(t, ctx, "open the knowledge base",
		chromedp.Click(chromedp.CSS("#nav-kb")),
		chromedp.WaitVisible(chromedp.CSS(`#kb-list a[data-id="h800"]`)),
	)
	n := run1(t, ctx, "count entries", chromedp.Evaluate[int](`document.querySelectorAll("#kb-list a[data-id]").length`))
	if want := len(s.deps.Engine.KB().Entries()); n != want {
		t.Errorf("%d entries listed, want %d", n, want)
	}
	do(t, ctx, "open the H800 entry",
		chromedp.Click(chromedp.CSS(`#kb-list a[data-id="h800"]`)),
		chromedp.WaitVisible(chromedp.CSS("#entry h2")),
	)
	entry := run1(t, ctx, "read the entry", chromedp.Text(chromedp.CSS("#entry")))
	for _, want := range []string{"What is the H800?", "People ask", "Related", "background"} {
		if !strings.Contains(strings.ToLower(entry), strings.ToLower(want)) {
			t.Errorf("the entry lacks %q:\n%s", want, entry)
		}
	}

	// A question the knowledge base does not cover is declined plainly.
	do(t, ctx, "ask something off topic",
		chromedp.Navigate(srv.URL+"/#/ask?q="+"what%20is%20the%20weather%20in%20Paris"),
		chromedp.WaitVisible(chromedp.CSS("#answer.declined .lead")),
	)

	if errs := jsErrors(); len(errs) > 0 {
		t.Errorf("errors on the page:\n%s", strings.Join(errs, "\n"))
	}
}
