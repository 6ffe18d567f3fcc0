package notify

import (
	"context"
	"fmt"
)

// retractScan bounds how many index rows RetractActor reads: as many as
// Unread counts over (10 pages of 200).
const retractScan = 2000

// RetractActor removes every activity of actor from user's inbox (a block
// between them), keeping each group's index row at its newest remaining
// activity. It reads the index in pages and the groups of a page in one
// call. Idempotent.
func (in *Inbox) RetractActor(ctx context.Context, user, actor int64) error {
	var cur Position
	seen := make(map[string]struct{})
	for scanned := 0; scanned < retractScan; {
		rows, err := in.store.Index(ctx, user, cur, 200)
		if err != nil {
			return fmt.Errorf("notify: read index: %w", err)
		}
		scanned += len(rows)
		var names []string
		for _, r := range rows {
			if _, dup := seen[r.Group]; !dup {
				seen[r.Group] = struct{}{}
				names = append(names, r.Group)
			}
		}
		if len(names) > 0 {
			gs, err := in.store.Groups(ctx, user, names)
			if err != nil {
				return fmt.Errorf("notify: read groups: %w", err)
			}
			for i, acts := range gs {
				for _, a := range acts {
					if a.Actor == actor {
						if err := in.Retract(ctx, user, names[i], actor); err != nil {
							return err
						}
						break
					}
				}
			}
		}
		if len(rows) < 200 {
			return nil
		}
		cur = rows[len(rows)-1]
	}
	return nil
}
