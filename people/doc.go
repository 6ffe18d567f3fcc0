// Package people is who the users are, as a reader shows them: each
// user's profile (display name, avatar, language), set by the profile
// event, and the lookup that names the people of a page at read time, so a
// rename shows at once everywhere.
//
// Profile and Store are the domain's; a store keeps profiles under the
// same last-writer-wins stamps as edges and marks, so a re-delivered or
// older profile event changes nothing. Names is one page's lookup: the
// ids a page names are gathered, read with one Profiles call, and looked
// up by binary search; a Directory recycles them, so a warm page
// allocates only what the store returns.
//
// This package must never import a storage or transport library.
package people
