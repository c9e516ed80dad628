// Tiny DOM helpers shared by the pages. Children are text or nodes; text is never parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/// 83500 → "1:23".
export function fmtTime(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function fmtDate(ms) {
  return ms ? new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

/// A recommendation badge: its word is always shown, colour is only a second cue.
export function badge(rec) {
  const cls = { 'Strong Yes': 'strong-yes', Yes: 'yes', Maybe: 'maybe', No: 'no' }[rec] || 'maybe';
  return h('span', { class: `badge ${cls}` }, rec);
}
