// Package comments reads an object's comment thread for one viewer: the
// object's audience and block rules applied (a viewer who may not see the
// object sees no thread at all), comments by people across a block from
// the viewer hidden, deleted comments absent, in keyset pages newest or
// oldest first with cursors sealed for the viewer, the object and the
// order (cursorseal).
//
// Writing comments is the fan-out's (fanout/comments.go); keeping them is
// a store's (objects.Comments).
//
// This package must never import a storage or transport library.
package comments
