// Package objects holds what feed items point at: posts, photos, gifts and
// live broadcasts (their text, media, audience and state), the marks on
// them: one reaction slot per user and object, a Class! or another
// configured kind (reaction.go), with each object's counts per kind, and
// the comments on them with each object's comment count (comments.go: the
// Comments seam).
//
// Timelines store ids, not content; readers hydrate a page from here in one
// batch. Deletion and the end of a broadcast are state of the object, so a
// reader hides such items at once, wherever their timeline entries are.
//
// This package must never import a storage or transport library.
package objects
