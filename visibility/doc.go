// Package visibility is the one read-time rule for who may see an object:
// a plain item in a feed, and every view derived from it (a Class
// aggregate in the recent or ranked feed, a ranking snapshot re-read, a
// notification, a push). The rule is a pure function of the object's
// stored state and the viewer's relations, so callers batch their reads
// (objects, relations) and pay no store round-trip per entry; only a
// group audience needs one membership lookup, which the verdict names.
//
// This package must never import a storage or transport library, and
// never read a store itself.
package visibility
