// Package notify is Lenta's notification domain: the aggregated inbox
// ("Anna and 12 others gave Class to your photo", "Anna and 3 others
// commented on your photo"), the fan-out hook that fills it, the push queue, and the push sender's policy (what to send, to
// which device, in which language, with which TTL, urgency and topic; what
// to retry, drop or unsubscribe).
//
// Storage and transport are behind the small interfaces in ports.go:
// store/pebble and store/cassandra keep the inbox, subscriptions, the push
// queue and the VAPID keys; push/webpush encrypts and delivers.
//
// This package must never import a storage or transport library (no
// Pebble, gocql, sarama, fasthttp, webpush-go, net/http).
package notify
