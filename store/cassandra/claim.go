package cassandrastore

import (
	"context"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// Push claims on push_claim (schema/cql/006_push_claim.cql).
var _ notify.Claims = (*NotifyStore)(nil)

const insertClaim = `INSERT INTO push_claim (uid, grp, win, owner) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?`

// maxClaimTTL bounds a claim's life (the table's default TTL).
const maxClaimTTL = 2 * 24 * time.Hour

// Claim implements notify.Claims with a lightweight transaction (Paxos):
// the row is written only if absent; when it is there, the claim is won
// only if owner wrote it (a repeated call after a timeout). The row lives
// until until (at least a minute, at most two days).
func (n *NotifyStore) Claim(ctx context.Context, user int64, group string, window int64, owner string, until int64) (bool, error) {
	if group == "" || owner == "" {
		return false, wrap("claim push", errBadID)
	}
	ttl := min(max(time.Until(time.UnixMilli(until)), time.Minute), maxClaimTTL)
	prev := map[string]any{}
	applied, err := n.s.sess.Query(insertClaim, user, group, window, owner, ttlSeconds(ttl)).
		MapScanCASContext(ctx, prev)
	if err != nil {
		return false, wrap("claim push", err)
	}
	if applied {
		return true, nil
	}
	cur, _ := prev["owner"].(string)
	return cur == owner, nil
}
