package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/notify"
)

// NotifyStore is everything the notifications and push need from a store.
type NotifyStore interface {
	notify.Store
	notify.Subscriptions
	notify.Queue
	notify.Retries
	notify.Leases
	notify.Settings
	notify.Claims
}

// RunNotify checks a store's inbox, subscriptions, push queue and
// settings through notify.Inbox, the way the service uses them.
func RunNotify(t *testing.T, newStore func(t *testing.T) NotifyStore) {
	t.Helper()
	run(t, newStore, []subtest[NotifyStore]{
		{"GroupsAggregatePerObject", notifyGroups},
		{"ReapplyIsHarmless", notifyReapply},
		{"RetractTakesActorOut", notifyRetract},
		{"PagesAndCursorPositions", notifyPages},
		{"UnreadAndMarkRead", notifyUnread},
		{"UsersAreApart", notifyUsersApart},
		{"Subscriptions", notifySubs},
		{"QueueAndCheckpoint", notifyQueue},
		{"SettingIsSetOnce", notifySettings},
		{"RemoveGroupsOfADeletedObject", notifyRemoveGroups},
		{"HeadIsNeverAboveTheGroup", notifyHead},
		{"RetriesAreKeptUntilDeleted", notifyRetries},
		{"LeasesAreExclusiveAndExpire", notifyLeases},
		{"ClaimIsWonOnce", notifyClaims},
		{"ClaimRaceHasOneWinner", notifyClaimRace},
	})
}

const nHour = int64(3600_000)

func classAct(user int64, object string, actor, ts int64) notify.Activity {
	return notify.Activity{User: user, Kind: notify.KindClass, Object: object, Actor: actor, TS: ts,
		EventID: fmt.Sprintf("c-%s-%d-%d", object, actor, ts), Group: notify.GroupKey(notify.KindClass, object, ts)}
}

func addAct(t *testing.T, in *notify.Inbox, acts ...notify.Activity) {
	t.Helper()
	for _, a := range acts {
		_, err := in.Add(t.Context(), a)
		must(t, err)
	}
}

func inboxPage(t *testing.T, in *notify.Inbox, user int64, after notify.Position, limit int) notify.Page {
	t.Helper()
	p, err := in.Page(t.Context(), user, after, limit)
	must(t, err)
	return p
}

const nBase = int64(1_700_000_000_000) / (12 * nHour) * (12 * nHour) // start of a group window

func notifyGroups(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	addAct(t, in, classAct(1, "p1", 2, nBase+1000), classAct(1, "p1", 3, nBase+2000), classAct(1, "p2", 4, nBase+1500),
		classAct(1, "p1", 5, nBase+3000))
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 2 {
		t.Fatalf("want 2 groups, got %+v", p.Items)
	}
	g := p.Items[0]
	if g.Object != "p1" || g.ActorCount != 3 || !slices.Equal(g.Actors, []int64{5, 3, 2}) || g.TS != nBase+3000 {
		t.Errorf("p1 group = %+v", g)
	}
	if p.Items[1].Object != "p2" || p.Items[1].ActorCount != 1 {
		t.Errorf("p2 group = %+v", p.Items[1])
	}
	// A mark in the next window starts a new group.
	addAct(t, in, classAct(1, "p1", 6, nBase+12*nHour+1))
	if p := inboxPage(t, in, 1, notify.Position{}, 10); len(p.Items) != 3 || p.Items[0].ActorCount != 1 {
		t.Errorf("after next window: %+v", p.Items)
	}
	// An older mark joins its group without moving it up.
	addAct(t, in, classAct(1, "p2", 7, nBase+500))
	p = inboxPage(t, in, 1, notify.Position{}, 10)
	if p.Items[2].Object != "p2" || p.Items[2].ActorCount != 2 || p.Items[2].TS != nBase+1500 {
		t.Errorf("older mark: %+v", p.Items)
	}
}

func notifyReapply(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	a := classAct(1, "p1", 2, nBase+1000)
	added, err := in.Add(t.Context(), a)
	must(t, err)
	again, err := in.Add(t.Context(), a)
	must(t, err)
	if !added || again {
		t.Errorf("Add reported %v then %v, want true then false", added, again)
	}
	must(t, in.AddMany(t.Context(), []notify.Activity{{User: 1, Kind: notify.KindLive, Object: "b1", Actor: 9,
		TS: nBase + 2000, EventID: "l1", Until: nBase + nHour, Group: notify.GroupKey(notify.KindLive, "b1", nBase+2000)}}))
	must(t, in.AddMany(t.Context(), []notify.Activity{{User: 1, Kind: notify.KindLive, Object: "b1", Actor: 9,
		TS: nBase + 2000, EventID: "l1", Until: nBase + nHour, Group: notify.GroupKey(notify.KindLive, "b1", nBase+2000)}}))
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 2 || p.Items[0].Until != nBase+nHour || p.Items[1].ActorCount != 1 {
		t.Errorf("after re-apply: %+v", p.Items)
	}
	if n, err := in.Unread(t.Context(), 1); err != nil || n != 2 {
		t.Errorf("Unread = %d, %v; want 2", n, err)
	}
}

func notifyRetract(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	addAct(t, in, classAct(1, "p1", 2, nBase+1000), classAct(1, "p1", 3, nBase+2000), classAct(1, "p2", 4, nBase+1500))
	g := notify.GroupKey(notify.KindClass, "p1", nBase)
	must(t, in.Retract(t.Context(), 1, g, 3)) // the newest one
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 2 || p.Items[0].Object != "p2" || p.Items[1].ActorCount != 1 || p.Items[1].TS != nBase+1000 {
		t.Fatalf("after retracting the newest: %+v", p.Items)
	}
	must(t, in.Retract(t.Context(), 1, g, 3)) // again: nothing
	must(t, in.Retract(t.Context(), 1, g, 2))
	p = inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 1 || p.Items[0].Object != "p2" {
		t.Fatalf("after retracting all of p1: %+v", p.Items)
	}
	if n, err := in.Unread(t.Context(), 1); err != nil || n != 1 {
		t.Errorf("Unread = %d, %v; want 1", n, err)
	}
}

func notifyPages(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	for i := range int64(25) {
		addAct(t, in, classAct(1, fmt.Sprintf("p%02d", i), 2, nBase+1000*(i+1)))
		addAct(t, in, classAct(1, fmt.Sprintf("p%02d", i), 3, nBase+1000*(i+1)+500)) // leaves a superseded row
	}
	var got []string
	after := notify.Position{}
	for range 10 {
		p := inboxPage(t, in, 1, after, 10)
		for _, n := range p.Items {
			got = append(got, n.Object)
			if n.ActorCount != 2 {
				t.Errorf("%s: actor count %d", n.Object, n.ActorCount)
			}
		}
		if p.Next.IsTop() {
			break
		}
		after = p.Next
	}
	if len(got) != 25 || got[0] != "p24" || got[24] != "p00" {
		t.Errorf("paged %d groups: %v", len(got), got)
	}
	if !slices.IsSortedFunc(got, func(a, b string) int { return -cmpStr(a, b) }) {
		t.Errorf("not newest first: %v", got)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func notifyUnread(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	addAct(t, in, classAct(1, "p1", 2, nBase+1000), classAct(1, "p2", 2, nBase+2000), classAct(1, "p3", 2, nBase+3000))
	unread := func(want int) {
		t.Helper()
		if n, err := in.Unread(t.Context(), 1); err != nil || n != want {
			t.Errorf("Unread = %d, %v; want %d", n, err, want)
		}
	}
	unread(3)
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	must(t, in.MarkRead(t.Context(), 1, p.Items[1].Pos)) // p2 and older
	unread(1)
	p = inboxPage(t, in, 1, notify.Position{}, 10)
	if p.Items[0].Read || !p.Items[1].Read || !p.Items[2].Read {
		t.Errorf("read flags: %+v", p.Items)
	}
	must(t, in.MarkRead(t.Context(), 1, p.Items[2].Pos)) // older: the mark stays
	unread(1)
	addAct(t, in, classAct(1, "p2", 3, nBase+4000)) // new activity makes p2 unread again
	unread(2)
	must(t, in.MarkRead(t.Context(), 1, notify.Position{}))
	unread(0)
}

func notifyUsersApart(t *testing.T, s NotifyStore) {
	in := notify.NewInbox(s)
	addAct(t, in, classAct(1, "p1", 2, nBase+1000), classAct(10, "p1", 2, nBase+1000))
	must(t, in.MarkRead(t.Context(), 1, notify.Position{}))
	if n, _ := in.Unread(t.Context(), 10); n != 1 {
		t.Errorf("user 10 unread = %d", n)
	}
	if p := inboxPage(t, in, 11, notify.Position{}, 10); len(p.Items) != 0 {
		t.Errorf("user 11 inbox = %+v", p.Items)
	}
}

func notifySubs(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	a := notify.Subscription{User: 1, ID: "a1", Endpoint: "https://push.example/a", P256dh: "k", Auth: "x", Lang: "ru", Created: 2}
	b := notify.Subscription{User: 1, ID: "b1", Endpoint: "https://push.example/b", P256dh: "k2", Auth: "y", Created: 1}
	must(t, s.PutSubscription(ctx, a))
	must(t, s.PutSubscription(ctx, b))
	must(t, s.PutSubscription(ctx, a)) // upsert
	must(t, s.PutSubscription(ctx, notify.Subscription{User: 2, ID: "a1", Endpoint: "https://push.example/c", Created: 1}))
	got, err := s.Subscriptions(ctx, 1)
	must(t, err)
	if len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("Subscriptions = %+v", got)
	}
	must(t, s.DeleteSubscription(ctx, 1, "b1"))
	must(t, s.DeleteSubscription(ctx, 1, "zz"))
	got, err = s.Subscriptions(ctx, 1)
	must(t, err)
	if len(got) != 1 || got[0].ID != "a1" {
		t.Errorf("after delete: %+v", got)
	}
}

func notifyQueue(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	due := int64(1_700_000_000)
	var tasks []notify.Task
	for u := int64(1); u <= 5; u++ {
		tasks = append(tasks, notify.Task{Shard: 3, Due: due, User: u, Group: "class:1:p", Deadline: 99})
	}
	tasks = append(tasks, notify.Task{Shard: 3, Due: due + 1, User: 1, Group: "g", Deadline: 5},
		notify.Task{Shard: 4, Due: due, User: 1, Group: "g", Deadline: 5})
	must(t, s.Enqueue(ctx, tasks))
	must(t, s.Enqueue(ctx, tasks[:2])) // upsert: no duplicates
	got, err := s.Due(ctx, 3, due, 0, "", 3)
	must(t, err)
	if len(got) != 3 || got[0].User != 1 || got[2].User != 3 || got[0].Deadline != 99 || got[0].Group != "class:1:p" {
		t.Fatalf("Due first page = %+v", got)
	}
	got, err = s.Due(ctx, 3, due, got[2].User, got[2].Group, 3)
	must(t, err)
	if len(got) != 2 || got[0].User != 4 {
		t.Fatalf("Due second page = %+v", got)
	}
	if cp, err := s.Checkpoint(ctx, 3); err != nil || cp != 0 {
		t.Errorf("Checkpoint = %d, %v", cp, err)
	}
	must(t, s.SetCheckpoint(ctx, 3, due))
	if cp, err := s.Checkpoint(ctx, 3); err != nil || cp != due {
		t.Errorf("Checkpoint = %d, %v", cp, err)
	}
	if got, err := s.Due(ctx, 3, due+1, 0, "", 10); err != nil || len(got) != 1 {
		t.Errorf("next second = %+v, %v", got, err)
	}
	if got, err := s.Due(ctx, 4, due, 0, "", 10); err != nil || len(got) != 1 {
		t.Errorf("other shard = %+v, %v", got, err)
	}
}

func notifySettings(t *testing.T, s NotifyStore) {
	v, err := s.PutSettingIfAbsent(t.Context(), "vapid", "one")
	must(t, err)
	w, err := s.PutSettingIfAbsent(t.Context(), "vapid", "two")
	must(t, err)
	if v != "one" || w != "one" {
		t.Errorf("settings: %q then %q, want one twice", v, w)
	}
}

func notifyRemoveGroups(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	in := notify.NewInbox(s)
	addAct(t, in, classAct(1, "p1", 2, nBase+1000), classAct(1, "p1", 3, nBase+2000), classAct(1, "p2", 4, nBase+1500),
		classAct(1, "p1", 5, nBase+12*nHour+10)) // p1 in two windows
	g0, g1 := notify.GroupKey(notify.KindClass, "p1", nBase), notify.GroupKey(notify.KindClass, "p1", nBase+12*nHour)
	live := notify.Activity{User: 7, Kind: notify.KindLive, Object: "b1", Actor: 9, TS: nBase + 50, EventID: "l1",
		Until: nBase + nHour, Group: notify.GroupKey(notify.KindLive, "b1", nBase)}
	must(t, in.AddMany(ctx, []notify.Activity{live, {User: 8, Kind: notify.KindLive, Object: "b1", Actor: 9,
		TS: nBase + 50, EventID: "l1", Group: live.Group}}))
	for range 2 { // idempotent
		must(t, in.RemoveGroups(ctx, 1, []string{g0, g1, notify.GroupKey(notify.KindClass, "p1", nBase-12*nHour)}))
		must(t, in.RemoveAt(ctx, []notify.GroupAt{{User: 7, Pos: notify.Position{TS: live.TS, Group: live.Group}},
			{User: 6, Pos: notify.Position{TS: live.TS, Group: live.Group}}}))
	}
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 1 || p.Items[0].Object != "p2" {
		t.Fatalf("after removing p1: %+v", p.Items)
	}
	if n, err := in.Unread(ctx, 1); err != nil || n != 1 {
		t.Errorf("Unread = %d, %v; want 1", n, err)
	}
	if _, ok, err := in.Group(ctx, 1, g0); err != nil || ok {
		t.Errorf("group %s still there: %v %v", g0, ok, err)
	}
	if p := inboxPage(t, in, 7, notify.Position{}, 10); len(p.Items) != 0 {
		t.Errorf("user 7 after removing the broadcast: %+v", p.Items)
	}
	if p := inboxPage(t, in, 8, notify.Position{}, 10); len(p.Items) != 1 {
		t.Errorf("user 8 lost a group not removed: %+v", p.Items)
	}
}

// notifyHead: Head reports the group's newest ts and the actor's own
// event, and after the newest activity is retracted or the group removed
// it never reports the gone one, so an activity below it is still indexed
// (a head above the truth would leave it out of the inbox).
func notifyHead(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	in := notify.NewInbox(s)
	g := notify.GroupKey(notify.KindClass, "p1", nBase)
	head := func(actor int64) notify.GroupHead {
		t.Helper()
		h, err := s.Head(ctx, 1, g, actor)
		must(t, err)
		return h
	}
	if h := head(2); h != (notify.GroupHead{}) {
		t.Errorf("head of a missing group = %+v", h)
	}
	a2, a3 := classAct(1, "p1", 2, nBase+1000), classAct(1, "p1", 3, nBase+3000)
	addAct(t, in, a2, a3, classAct(1, "p1", 4, nBase+2000)) // the last one is older: not the head
	if h := head(2); h.Newest != nBase+3000 || h.EventID != a2.EventID {
		t.Errorf("head for actor 2 = %+v, want newest %d and %q", h, nBase+3000, a2.EventID)
	}
	if h := head(9); h.Newest != nBase+3000 || h.EventID != "" {
		t.Errorf("head for actor 9 (none) = %+v", h)
	}
	must(t, in.Retract(ctx, 1, g, 3))
	if h := head(3); h.Newest != nBase+2000 || h.EventID != "" {
		t.Errorf("head after retracting the newest = %+v, want newest %d", h, nBase+2000)
	}
	addAct(t, in, classAct(1, "p1", 5, nBase+2500)) // newer than the rest, older than the retracted one
	p := inboxPage(t, in, 1, notify.Position{}, 10)
	if len(p.Items) != 1 || p.Items[0].TS != nBase+2500 || p.Items[0].ActorCount != 3 {
		t.Fatalf("after retract and add: %+v", p.Items)
	}
	// A group emptied by a retract: a later, older activity is indexed.
	g2 := notify.GroupKey(notify.KindClass, "p2", nBase)
	addAct(t, in, classAct(1, "p2", 7, nBase+5000))
	must(t, in.Retract(ctx, 1, g2, 7))
	if h, err := s.Head(ctx, 1, g2, 7); err != nil || h != (notify.GroupHead{}) {
		t.Errorf("head of an emptied group = %+v, %v", h, err)
	}
	addAct(t, in, classAct(1, "p2", 8, nBase+4000))
	if p := inboxPage(t, in, 1, notify.Position{}, 10); len(p.Items) != 2 || p.Items[0].TS != nBase+4000 {
		t.Fatalf("an activity after the group was emptied: %+v", p.Items)
	}
	must(t, in.RemoveGroups(ctx, 1, []string{g, g2}))
	if h := head(5); h != (notify.GroupHead{}) {
		t.Errorf("head of a removed group = %+v", h)
	}
	addAct(t, in, classAct(1, "p1", 6, nBase+100))
	if p := inboxPage(t, in, 1, notify.Position{}, 10); len(p.Items) != 1 || p.Items[0].TS != nBase+100 {
		t.Fatalf("an activity after the group was removed: %+v", p.Items)
	}
}
