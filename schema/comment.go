package schema

// validateComment checks the keys of comment and comment_delete.
//
// A comment's own id is its event id: one comment event makes exactly one
// comment, so the idempotency key already names it and needs no second
// key. Object is the commented object; reply_to, when set, is the id of an
// earlier comment (on the same object) it answers. A comment_delete names
// the object and, in comment, the comment deleted.
func (ev *Event) validateComment() error {
	if ev.Object == "" {
		return invalid(ev, "object", "missing: %s needs the commented object's id", ev.Type)
	}
	if ev.Audience != "" {
		return invalid(ev, "audience", "only post, photo, gift and live take an audience")
	}
	if len(ev.Media) > 0 {
		return invalid(ev, "media", "%s takes no media", ev.Type)
	}
	if ev.Target != 0 {
		return invalid(ev, "target", "%s takes no target (the object's owner is looked up)", ev.Type)
	}
	if ev.Type == CommentDelete {
		if ev.CommentID == "" {
			return invalid(ev, "comment", "missing: comment_delete needs the id of the comment")
		}
		if !validID(ev.CommentID) {
			return invalid(ev, "comment", "must be 1..%d characters of [A-Za-z0-9._:@-]", MaxIDLen)
		}
		if ev.Text != "" {
			return invalid(ev, "text", "comment_delete takes no text")
		}
		return nil
	}
	if ev.Text == "" {
		return invalid(ev, "text", "missing: a comment needs 1..%d bytes of text", MaxTextLen)
	}
	if ev.ReplyTo != "" {
		if !validID(ev.ReplyTo) {
			return invalid(ev, "reply_to", "must be 1..%d characters of [A-Za-z0-9._:@-]", MaxIDLen)
		}
		if ev.ReplyTo == ev.ID {
			return invalid(ev, "reply_to", "a comment cannot reply to itself")
		}
	}
	return nil
}

// ValidID reports whether s is a valid id, object id or comment id: 1 to
// MaxIDLen characters of [A-Za-z0-9._:@-]. Readers check ids taken from
// outside (a URL path) with it before they look anything up.
func ValidID(s string) bool { return validID(s) }
