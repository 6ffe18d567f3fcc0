package notify

// Rendering: a notification group as the push message a device gets.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/lenta-dev/lenta/people"
)

// objectOf reads n's object type; gone reports (and counts) a push that
// must not be sent because its object was deleted or its broadcast ended.
func (s *Sender) objectOf(ctx context.Context, n *Notification) (objType string, gone bool, err error) {
	if s.cfg.Objects == nil || n.Object == "" {
		return "", false, nil
	}
	objs, err := s.cfg.Objects.Get(ctx, []string{n.Object})
	if err != nil {
		return "", false, fmt.Errorf("read object: %w", err)
	}
	o := objs[0]
	if n.Kind == KindLive && (o.Ended || o.Deleted) || o.Deleted {
		s.stale()
		return "", true, nil
	}
	return string(o.Type), false, nil
}

// prepare renders a retry as its group is now, for its device; ok is
// false when there is nothing to send any more (the group was retracted,
// the object deleted, the device unsubscribed).
func (s *Sender) prepare(ctx context.Context, j *job) (bool, error) {
	n, ok, err := s.cfg.Inbox.Group(ctx, j.user, j.group)
	if err != nil || !ok {
		return false, err
	}
	objType, gone, err := s.objectOf(ctx, &n)
	if err != nil || gone {
		return false, err
	}
	subs, err := s.cfg.Subs.Subscriptions(ctx, j.user)
	if err != nil {
		return false, fmt.Errorf("read subscriptions: %w", err)
	}
	i := slices.IndexFunc(subs, func(x Subscription) bool { return x.ID == j.sub.ID })
	if i < 0 {
		return false, nil
	}
	j.sub = subs[i]
	if n.Kind == KindLive && n.Until > 0 {
		j.deadline = min(j.deadline, n.Until)
	}
	names, err := s.namesOf(ctx, j.user, &n)
	if err != nil {
		return false, err
	}
	defer s.cfg.People.Release(names)
	j.msg, err = s.Message(&n, pushLang(names, j.user, j.sub.Lang), objType, names)
	return err == nil, err
}

// namesOf reads, in one call, the profiles a push of n to user needs: the
// name of its first actor and the user's own language. Give it back with
// s.cfg.People.Release.
func (s *Sender) namesOf(ctx context.Context, user int64, n *Notification) (*people.Names, error) {
	nm := s.cfg.People.Acquire()
	nm.Add(user)
	if len(n.Actors) > 0 {
		nm.Add(n.Actors[0])
	}
	if err := s.cfg.People.Load(ctx, nm); err != nil {
		s.cfg.People.Release(nm)
		return nil, fmt.Errorf("push texts: %w", err)
	}
	return nm, nil
}

// pushLang is the language of a push to user on a device whose browser
// said device: the user's profile language when set (their choice in
// the network), else the browser's.
func pushLang(names *people.Names, user int64, device string) string {
	if l := names.Lang(user); l != "" {
		return l
	}
	return device
}

// MaxBody bounds a push's body text, in bytes.
const MaxBody = 400

// Message renders n for a device in lang; names gives display names
// (nil, or a user without one: "User 7").
func (s *Sender) Message(n *Notification, lang, objType string, names Names) (Message, error) {
	c := s.cfg.Catalog
	l := c.Match(lang)
	topic := Topic(n.Kind, n.Object)
	p := Payload{Title: c.T(l, "title"), Body: cut(c.Text(l, n, names, objType), MaxBody),
		URL: "/#notifications", Tag: topic, ID: n.ID, Type: n.Kind, TS: n.TS}
	if n.Kind == KindLive {
		p.URL = "/#live/" + n.Object
	}
	b, err := json.Marshal(&p)
	if err != nil {
		return Message{}, fmt.Errorf("notify: encode payload: %w", err)
	}
	if len(b) > MaxPayload {
		return Message{}, fmt.Errorf("notify: payload of %d bytes is over %d", len(b), MaxPayload)
	}
	m := Message{Payload: b, Urgency: "normal", Topic: topic}
	if n.Kind == KindLive {
		m.Urgency = "high"
	}
	return m, nil
}

// cut shortens s to at most n bytes without splitting a character (a
// name in Cyrillic cut mid-rune would reach the device as U+FFFD).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Topic is the RFC 8030 topic of a notification: one per object (or per
// kind for friends and followers), 32 base64url characters, so a newer
// push replaces an undelivered older one (reactions of every kind share
// the Class! topic of their object).
func Topic(k Kind, object string) string {
	if k == KindReact {
		k = KindClass // every reaction on an object: one topic
	}
	h := sha256.Sum256([]byte(string(k.base()) + ":" + object))
	return base64.RawURLEncoding.EncodeToString(h[:])[:32]
}
