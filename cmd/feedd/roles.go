package main

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// publisherFor refuses events on processes without the ingest role.
func publisherFor(r roles, p fanout.Publisher) fanout.Publisher {
	if r.ingest {
		return p
	}
	return refuse{what: "ingest"}
}

// feedFor refuses feed reads on processes without the reader role.
func feedFor(r roles, f timeline.Feed) timeline.Feed {
	if r.reader {
		return f
	}
	return refuse{what: "reader"}
}

// refuse answers for a role this process does not run.
type refuse struct{ what string }

func (r refuse) Publish(context.Context, []schema.Event) error { return r.err() }

func (r refuse) Page(context.Context, int64, timeline.Position, int) (timeline.Page, error) {
	return timeline.Page{}, r.err()
}

func (r refuse) err() error {
	return fmt.Errorf("this feedd process does not run the %s role", r.what)
}
