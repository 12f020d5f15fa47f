package bot

import "time"

// Feedback is a reader's verdict (👍 or 👎) on an answer, kept so curators
// can see what the knowledge base answers badly.
type Feedback struct {
	Platform string
	Channel  string
	User     string // platform user id; stores drop it unless told to keep it
	Question string
	Entries  []string // the entries the answer was built from
	Helpful  bool     // 👍 true, 👎 false
	At       time.Time
}
