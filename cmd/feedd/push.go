package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lenta-dev/lenta/httpapi"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/push/webpush"
)

// notifyStore is what notifications and Web Push keep in a store.
type notifyStore interface {
	notify.Store
	notify.Subscriptions
	notify.Queue
	notify.Retries
	notify.Leases
	notify.Settings
	notify.Claims
}

// pushOptions are the notification and Web Push flags.
type pushOptions struct {
	subject       string
	workers       int
	allowLoopback bool
	allowHTTP     bool
	noPage        bool
	leaseTTL      time.Duration
}

func addPushFlags(fs *flag.FlagSet, p *pushOptions) {
	fs.StringVar(&p.subject, "vapid-subject", "mailto:push@lenta.invalid", "VAPID subject: mailto: address or https: URL of the operator")
	fs.IntVar(&p.workers, "push-workers", 32, "concurrent Web Push sends")
	fs.BoolVar(&p.allowLoopback, "push-allow-loopback", false, "TESTS ONLY: let push endpoints be on loopback addresses")
	fs.BoolVar(&p.allowHTTP, "push-allow-http", false, "TESTS ONLY: accept http:// push endpoints")
	fs.BoolVar(&p.noPage, "no-page", false, "do not serve the browser page at /")
	fs.DurationVar(&p.leaseTTL, "push-lease-ttl", 15*time.Second, "on Cassandra: how long a push shard lease lasts unless renewed (a dead push process's shards are taken over after it); at least 3s")
}

// notifySetup is the wired notification side: the fan-out hook, the HTTP
// part and the push sender.
type notifySetup struct {
	hook   *notify.Hook
	http   *httpapi.NotifyConfig
	sender *notify.Sender
	close  func()
}

// setupNotify wires the inbox, the VAPID keys (VAPID_PUBLIC_KEY and
// VAPID_PRIVATE_KEY, or the pair kept in the store, made on first start),
// the transport and the sender.
//
// Pending retries are kept in the store. On Kafka + Cassandra the push
// processes split the queue's shards with leases in the store; the
// embedded store is opened by one process, which serves every shard.
func setupNotify(ctx context.Context, o options, b *backend, secret []byte, obs notify.Observer, log *slog.Logger) (*notifySetup, error) {
	st := b.stores.notify
	inbox := notify.NewInbox(st)
	var keys webpush.Keys
	var err error
	if pub, priv := os.Getenv("VAPID_PUBLIC_KEY"), os.Getenv("VAPID_PRIVATE_KEY"); priv != "" {
		keys, err = webpush.ParseKeys(pub, priv)
	} else {
		kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		keys, err = webpush.LoadOrCreateKeys(kctx, st)
		cancel()
	}
	if err != nil {
		return nil, fmt.Errorf("VAPID keys: %w", err)
	}
	tr, err := webpush.New(webpush.Config{Keys: keys, Subject: o.push.subject,
		Policy: webpush.Policy{AllowLoopback: o.push.allowLoopback, AllowHTTP: o.push.allowHTTP}})
	if err != nil {
		return nil, err
	}
	if o.push.allowLoopback || o.push.allowHTTP {
		log.Warn("push: test-only endpoint policy in force", "allow_loopback", o.push.allowLoopback, "allow_http", o.push.allowHTTP)
	}
	catalog, err := notify.LoadCatalog()
	if err != nil {
		return nil, err
	}
	var leases notify.Leases
	if o.kafka != "" {
		leases = st
	}
	sender, err := notify.NewSender(notify.SenderConfig{Inbox: inbox, Queue: st, Subs: st, Transport: tr,
		Catalog: catalog, People: people.NewDirectory(b.stores.profiles), Objects: b.stores.objects, Workers: o.push.workers,
		Retries: st, Leases: leases, Claims: st, LeaseTTL: o.push.leaseTTL, Observer: obs, Log: log})
	if err != nil {
		return nil, err
	}
	return &notifySetup{
		hook: notify.NewHook(notify.HookConfig{Inbox: inbox, Queue: st, Graph: b.stores.graph, Comments: b.stores.comments}),
		http: &httpapi.NotifyConfig{Inbox: inbox, Cursors: notify.NewCursors(secret), Subs: st, Checker: tr,
			PublicKey: keys.Public, AllowHTTP: o.push.allowHTTP, Page: !o.push.noPage},
		sender: sender,
		close:  tr.Close,
	}, nil
}
