// Package diskspace watches the free space of a folder's filesystem against
// a watermark (like Elasticsearch's flood stage): below it, writers are
// refused with fanout.ErrNoSpace before they try, instead of failing
// mid-write with ENOSPC.
//
// It is the only package calling statfs. It must never write to the folder
// nor decide what a refusal means to a client: that is for its callers.
package diskspace
