package notify

// Rendering: a notification group as the push message a device gets.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
	j.msg, err = s.Message(&n, j.sub.Lang, objType)
	return err == nil, err
}

// Message renders n for a device in lang.
func (s *Sender) Message(n *Notification, lang, objType string) (Message, error) {
	c := s.cfg.Catalog
	l := c.Match(lang)
	topic := Topic(n.Kind, n.Object)
	p := Payload{Title: c.T(l, "title"), Body: c.Text(l, n, s.cfg.Names, objType),
		URL: "/#notifications", Tag: topic, ID: n.ID, Type: n.Kind, TS: n.TS}
	if n.Kind == KindLive {
		p.URL = "/#live/" + n.Object
	}
	if len(p.Body) > 400 {
		p.Body = p.Body[:400]
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
