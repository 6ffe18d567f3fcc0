// Lenta's page: plain JavaScript, no build step.
'use strict';
const $ = (id) => document.getElementById(id);
const state = { token: localStorage.getItem('lenta.token') || '', user: 0, classed: new Set() };

function userOf(token) {
  try { return Number(JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub); }
  catch { return 0; }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: 'Bearer ' + state.token } };
  if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function describe(it) {
  switch (it.type) {
    case 'class': return `User ${(it.actors || [it.actor]).join(', ')} gave Class! to ${it.object}`;
    case 'gift': return `User ${it.actor} sent a gift to user ${it.owner}`;
    case 'live': return `User ${it.actor} is live: ${it.text || ''}`;
    default: return it.text || '';
  }
}

async function loadFeed() {
  const list = $('feed');
  try {
    const page = await api('GET', '/v1/feed?limit=20');
    list.replaceChildren();
    for (const it of page.items) {
      const li = el('li');
      li.dataset.object = it.object;
      li.append(el('div', it.live ? 'live' : '', describe(it)),
        el('div', 'meta', `${it.type} · user ${it.actor} · ${new Date(it.ts).toLocaleString()} · Class! ${it.class_count}`));
      if (it.type !== 'class') {
        const b = el('button', 'class-btn', 'Class!');
        if (state.classed.has(it.object)) b.classList.add('on');
        b.onclick = () => giveClass(it, b);
        li.append(b);
      }
      list.append(li);
    }
    $('status').textContent = page.items.length ? '' : 'Your feed is empty.';
  } catch (e) { $('status').textContent = 'Feed: ' + e.message; }
}

async function giveClass(it, button) {
  const owner = it.type === 'gift' ? it.actor : it.actor;
  const ev = { id: `class-${state.user}-${it.object}-${Date.now()}`, type: 'class', actor: state.user,
    target: owner, object: it.object, ts: Date.now() };
  try {
    await api('POST', '/v1/events', ev);
    state.classed.add(it.object);
    button.classList.add('on');
    button.textContent = 'Class! ✓';
  } catch (e) { $('status').textContent = 'Class: ' + e.message; }
}

function notifText(n) {
  const who = `User ${n.actors[0]}` + (n.actor_count > 1 ? ` and ${n.actor_count - 1} others` : '');
  switch (n.type) {
    case 'class': return `${who} gave Class! to your ${n.object}`;
    case 'react': return `${who} reacted to your ${n.object}: ${(n.reactions || []).join(', ')}`;
    case 'gift': return `${who} sent you a gift`;
    case 'friend': return `${who} became your friend`;
    case 'follow': return `${who} followed you`;
    case 'live': return `${who} is live now`;
  }
  return who;
}

async function loadNotifications() {
  try {
    const [page, unread] = await Promise.all([api('GET', '/v1/notifications?limit=20'),
      api('GET', '/v1/notifications/unread_count')]);
    const list = $('notif-list');
    list.replaceChildren();
    for (const n of page.items) {
      const li = el('li', n.read ? '' : 'unread', notifText(n));
      li.dataset.id = n.id;
      li.append(el('div', 'meta', new Date(n.ts).toLocaleString()));
      list.append(li);
    }
    $('badge').textContent = unread.count >= 100 ? '99+' : String(unread.count);
    $('badge').hidden = unread.count === 0;
  } catch (e) { $('status').textContent = 'Notifications: ' + e.message; }
}

function b64url(s) {
  const pad = '='.repeat((4 - s.length % 4) % 4);
  const raw = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  return navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

async function enablePush() {
  try {
    const reg = await registerWorker();
    if (!reg || !('PushManager' in window)) throw new Error('this browser has no Web Push');
    if ((await Notification.requestPermission()) !== 'granted') throw new Error('permission denied');
    const { key } = await api('GET', '/v1/push/key');
    await navigator.serviceWorker.ready;
    let sub = await reg.pushManager.getSubscription();
    if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64url(key) });
    await api('POST', '/v1/push/subscriptions', Object.assign(sub.toJSON(), { lang: navigator.language }));
    $('enable-push').textContent = 'Notifications on';
  } catch (e) { $('status').textContent = 'Push: ' + e.message; }
}

function show() {
  const signed = !!state.token;
  $('signin').hidden = signed;
  $('who').hidden = !signed;
  if (!signed) return;
  state.user = userOf(state.token);
  $('user').textContent = 'User ' + state.user;
  loadFeed();
  loadNotifications();
  route();
}

function route() {
  $('notifications').hidden = !location.hash.startsWith('#notifications');
}

$('signin').onsubmit = (e) => {
  e.preventDefault();
  state.token = $('token').value.trim();
  localStorage.setItem('lenta.token', state.token);
  show();
};
$('signout').onclick = () => { localStorage.removeItem('lenta.token'); state.token = ''; show(); };
$('bell').onclick = () => { location.hash = location.hash === '#notifications' ? '' : '#notifications'; };
$('enable-push').onclick = enablePush;
$('mark-read').onclick = async () => { await api('POST', '/v1/notifications/read', {}); loadNotifications(); };
window.addEventListener('hashchange', route);
navigator.serviceWorker && navigator.serviceWorker.addEventListener('message', (e) => {
  window.lentaLastPush = e.data; // the last notification the worker showed (tests read it)
  loadNotifications();
});
registerWorker().catch(() => {});
setInterval(() => { if (state.token) loadNotifications(); }, 5000);
show();
