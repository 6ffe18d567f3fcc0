package main

import (
	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/httpapi"
)

// deadLetterAdmin is what serves GET /v1/admin/deadletters and the replay
// route: the backend's dead letters, replayed onto its event log.
func deadLetterAdmin(b *backend) httpapi.DeadLetterAdmin {
	if b.deadStore == nil || b.publisher == nil {
		return nil
	}
	return &deadletter.Service{Store: b.deadStore, Log: b.publisher}
}
