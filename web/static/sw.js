// Lenta's service worker: shows a notification for each push and opens
// the right page when it is clicked.
'use strict';
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data ? event.data.text() : '' }; }
  const title = data.title || 'Lenta';
  event.waitUntil((async () => {
    await self.registration.showNotification(title, {
      body: data.body || '', tag: data.tag || undefined, renotify: !!data.tag,
      data: { url: data.url || '/#notifications' },
    });
    const shown = await self.registration.getNotifications({ tag: data.tag || undefined });
    for (const c of await self.clients.matchAll({ type: 'window' })) {
      c.postMessage({ type: 'push', id: data.id, title, body: data.body || '', shown: shown.length });
    }
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil((async () => {
    for (const c of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) {
      if (new URL(c.url).origin === url.origin) { await c.focus(); return c.navigate(url.href); }
    }
    return self.clients.openWindow(url.href);
  })());
});
