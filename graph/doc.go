// Package graph is Lenta's social graph: mutual friendships, follows of
// communities and public profiles, a user's named friend groups (for
// group:<id> audiences), and blocks. It defines the graph's types and the
// Store interface that storage adapters implement.
//
// Every edge carries the schema.Stamp of the event that last changed it;
// stores keep the newer stamp (last writer wins), so a re-delivered or late
// event never undoes a newer one.
//
// This package must never import a storage or transport library.
package graph
