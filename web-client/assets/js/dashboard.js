// The recruiter dashboard: sign in with an API token, jobs, invites, ranked candidates, the
// report with evidence linked into the replay player. Hash routes: #/jobs, #/jobs/ID,
// #/interviews/ID. Everything shown is built with text nodes (never innerHTML): reports quote
// what candidates said.
import { h, fmtTime, fmtDate, badge } from './dom.js';
import { createReplay } from './replay.js';

const TOKEN_KEY = 'viva.token';
const $ = (id) => document.getElementById(id);
const view = $('view');
window.vivaDashboard = {};   // for diagnostics and the browser tests

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || body.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    render();
    throw new ApiError(401, { message: 'Your token was not accepted. Sign in again.' });
  }
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
  if (raw) return r;
  return r.status === 204 ? null : r.json();
}

function alertMsg(text) {
  $('alert').textContent = text || '';
  $('alert').hidden = !text;
}

function focusHeading() {
  const h1 = view.querySelector('h1');
  if (h1) { h1.tabIndex = -1; h1.focus(); }
}

// ---- routing
async function render() {
  alertMsg('');
  const signedIn = !!sessionStorage.getItem(TOKEN_KEY);
  $('nav').hidden = !signedIn;
  if (window.vivaDashboard.replay) { window.vivaDashboard.replay.close(); window.vivaDashboard.replay = null; }
  if (!signedIn) return renderLogin();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 'jobs' && parts[1]) await renderJob(parts[1]);
    else if (parts[0] === 'interviews' && parts[1]) await renderInterview(parts[1]);
    else await renderJobs();
  } catch (e) {
    if (e.status !== 401) alertMsg(e.message);
  }
  focusHeading();
}
window.addEventListener('hashchange', render);
$('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.hash = ''; render(); });

function renderLogin() {
  view.replaceChildren($('t-login').content.cloneNode(true));
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    try {
      await api('/v1/jobs');
      if (!location.hash || location.hash === '#') location.hash = '#/jobs';
      else render();
    } catch (err) {
      renderLogin();
      alertMsg(err.message);
    }
  });
  focusHeading();
}

// ---- jobs
async function renderJobs() {
  const { jobs } = await api('/v1/jobs');
  view.replaceChildren(
    h('h1', {}, 'Jobs'),
    jobs.length ? h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Job'), h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'Updated'))),
      h('tbody', {}, ...jobs.map((j) => h('tr', {},
        h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.title)),
        h('td', {}, String(j.version)),
        h('td', {}, fmtDate(j.updated_at))))))
      : h('p', {}, 'No jobs yet.'),
    h('h2', {}, 'Create a job'),
    h('p', { class: 'muted' }, 'Fill in the form, paste a configuration (TOML or JSON), or paste a job description and review the draft viva makes of it. The server checks every job as ',
      h('code', {}, 'viva job validate'), ' does.'),
    jobFormSection(),
    pasteSection(),
    draftSection());
}

/// A server problem as text: "line 3 · rubric.dimensions[0].weight: … Fix: …".
function issueText(d) {
  if (typeof d === 'string') return d;
  const where = [d.line ? `line ${d.line}` : null, d.field || null].filter(Boolean).join(' · ');
  return `${where ? `${where}: ` : ''}${d.message}${d.fix ? `. Fix: ${d.fix}` : ''}`;
}

/// Saves a job (TOML or JSON text); on success opens it, else lists the problems in `errors`
/// (each with a "go to line" button when the server named a line of `textarea`).
async function saveJob(text, errors, textarea, { json = /^\s*\{/.test(text), onIssue } = {}) {
  errors.replaceChildren();
  textarea?.removeAttribute('aria-invalid');
  try {
    const job = await api('/v1/jobs', { method: 'POST', body: json ? { config_json: text } : { config_toml: text } });
    location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
  } catch (err) {
    if (err.status === 401) return;
    const details = err.body?.details || [];
    errors.append(h('li', { class: 'summary' }, err.message));
    for (const d of details) {
      const li = h('li', {}, issueText(d));
      if (textarea && d.line) {
        const go = h('button', { type: 'button', class: 'small', 'aria-label': `Go to line ${d.line}` }, `Go to line ${d.line}`);
        go.addEventListener('click', () => selectLine(textarea, d.line));
        li.append(' ', go);
      }
      errors.append(li);
      onIssue && onIssue(d);
    }
    textarea?.setAttribute('aria-invalid', 'true');
  }
}

function selectLine(textarea, line) {
  const lines = textarea.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || '').length);
}

// -- from pasted configuration
function pasteSection() {
  const errors = h('ul', { class: 'errors', id: 'job-errors', 'aria-live': 'polite' });
  const textarea = h('textarea', { id: 'job-toml', rows: 12, spellcheck: 'false', required: true, 'aria-describedby': 'job-toml-help job-errors' });
  const form = h('form', { id: 'job-form' },
    h('label', { for: 'job-toml' }, 'Job configuration'),
    h('p', { class: 'muted', id: 'job-toml-help' }, 'TOML (a job file, schema: server/interview/job.schema.json) or the same fields as JSON (starting with "{"). Problems are listed below with their field and line.'),
    textarea,
    h('button', { type: 'submit', class: 'primary' }, 'Create job'),
    errors);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    saveJob(textarea.value, errors, textarea);
  });
  return h('section', { 'aria-labelledby': 'h-paste' }, h('h3', { id: 'h-paste' }, 'From pasted configuration'), form);
}

// -- drafted from a job description
function draftSection() {
  const status = h('p', { id: 'draft-status', role: 'status' });
  const textarea = h('textarea', { id: 'jd-text', rows: 8, required: true, 'aria-describedby': 'jd-help' });
  const form = h('form', { id: 'draft-form' },
    h('label', { for: 'jd-text' }, 'Job description'),
    h('p', { class: 'muted', id: 'jd-help' }, 'Paste the whole job description. viva drafts a configuration (skills, competencies, knockouts, questions from the bank, a rubric) into the box above for you to review and edit; nothing is saved until you press "Create job".'),
    textarea,
    h('button', { type: 'submit' }, 'Draft a configuration'),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = 'Drafting…';
    try {
      const d = await api('/v1/jobs/draft', { method: 'POST', body: { description: textarea.value } });
      const target = $('job-toml');
      target.value = d.config_toml;
      status.textContent = `Drafted "${d.title}". Review it in the configuration box above, then press "Create job".`;
      target.focus();
      target.setSelectionRange(0, 0);
      target.scrollTop = 0;
    } catch (err) {
      status.textContent = `No draft: ${err.message}`;
    }
  });
  return h('section', { 'aria-labelledby': 'h-draft' }, h('h3', { id: 'h-draft' }, 'Drafted from a job description'), form);
}

// -- from a form
const FAMILIES = ['engineering', 'data', 'product', 'design', 'operations', 'sales', 'support', 'other'];
const PRESETS = [['quick-screen', 'Quick screen (1 follow-up per question)'], ['standard-screen', 'Standard screen (up to 3)'], ['deep-technical-screen', 'Deep technical screen (up to 5)']];
const LEVELS = ['basic', 'intermediate', 'advanced', 'expert'];
const DEFAULT_RUBRIC = 'Technical Depth, 40, Depth of knowledge shown in the answers\nProblem-Solving, 30, Approach to debugging and resolving complex issues\nCommunication, 30, Clarity in explaining technical concepts';

/// "Name, level" lines → skills (level defaults to intermediate).
function skillLines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const m = l.match(/^(.*?)(?:\s*[,:]\s*(basic|intermediate|advanced|expert))?$/i);
    return { name: m[1].trim(), level: (m[2] || 'intermediate').toLowerCase() };
  });
}

function jobFormSection() {
  const field = (id, label, control, help) => h('div', { class: 'field' },
    h('label', { for: id }, label), help ? h('p', { class: 'muted', id: `${id}-help` }, help) : null, control,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  const input = (id, attrs = {}) => h('input', { id, 'aria-describedby': `${id}-error`, ...attrs });
  const area = (id, rows, attrs = {}) => h('textarea', { id, rows, 'aria-describedby': `${id}-help ${id}-error`, ...attrs });
  const select = (id, options, value) => h('select', { id, 'aria-describedby': `${id}-error` },
    ...options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
  // Groups are divs with role=group, not fieldsets: Chromium 156 gave fieldsets filled while
  // their <details> was open no layout box at all (unclickable checkboxes until a reflow).
  const bank = h('div', { id: 'jf-bank', class: 'group-box', role: 'group', 'aria-labelledby': 'jf-bank-label', 'aria-describedby': 'jf-bank-error' },
    h('p', { class: 'group-label', id: 'jf-bank-label' }, 'Questions from the bank (pick at least one)'), h('p', { class: 'muted' }, 'Loading the question bank…'));
  const errors = h('ul', { class: 'errors', id: 'jf-errors', 'aria-live': 'polite' });
  const form = h('form', { id: 'jf', novalidate: true },
    field('jf-title', 'Title', input('jf-title', { required: true })),
    h('div', { class: 'inline' },
      field('jf-family', 'Job family', select('jf-family', FAMILIES.map((f) => [f, f[0].toUpperCase() + f.slice(1)]), 'engineering')),
      field('jf-duration', 'Length (minutes)', input('jf-duration', { type: 'number', min: 10, max: 180, value: 30 })),
      field('jf-preset', 'Interview template', select('jf-preset', PRESETS, 'standard-screen'))),
    field('jf-description', 'Job description', area('jf-description', 4), 'What the role is; shown to nobody but used to phrase the interview.'),
    field('jf-brief', 'Role brief', area('jf-brief', 2), 'Two or three sentences the interviewer uses instead of the whole description.'),
    h('div', { class: 'inline' },
      field('jf-lang', 'Interview language', input('jf-lang', { value: 'en', size: 6 })),
      field('jf-cefr', 'Minimum language level', select('jf-cefr', [['', 'Not assessed'], ...['A1', 'A2', 'B1', 'B2', 'C1', 'C2'].map((c) => [c, c])], '')),
      field('jf-years', 'Minimum years of experience (knockout)', input('jf-years', { type: 'number', min: 0, max: 40, step: 0.5 }))),
    field('jf-required', 'Required skills', area('jf-required', 4, { placeholder: 'API design, advanced\nPostgreSQL, intermediate' }), `One per line: name, then optionally a level (${LEVELS.join(', ')}).`),
    field('jf-preferred', 'Preferred skills', area('jf-preferred', 3, { placeholder: 'Kubernetes\nRedis, basic' }), 'One per line, as above.'),
    field('jf-competencies', 'Competencies (pass/fail)', area('jf-competencies', 3, { placeholder: 'Production ownership: Runs and debugs the services they build.' }), 'One per line: name, then optionally ": description".'),
    bank,
    h('p', { class: 'field-error', id: 'jf-bank-error', hidden: true }),
    field('jf-rubric', 'Rubric', area('jf-rubric', 4, { value: DEFAULT_RUBRIC }), 'One dimension per line: name, weight (percent; all weights sum to 100), description.'),
    h('button', { type: 'submit', class: 'primary', id: 'jf-submit' }, 'Create job'),
    errors);
  form.querySelector('#jf-rubric').value = DEFAULT_RUBRIC;

  let bankQuestions = [];
  api('/v1/bank').then(({ concepts, questions }) => {
    bankQuestions = questions;
    const names = new Map(concepts.map((c) => [c.id, c.name]));
    const groups = new Map();
    for (const q of questions) {
      if (!groups.has(q.concept)) groups.set(q.concept, []);
      groups.get(q.concept).push(q);
    }
    bank.replaceChildren(bank.firstChild, ...[...groups].map(([concept, qs]) => h('div', { class: 'bank-group group-box', role: 'group', 'aria-labelledby': `jf-g-${concept}` },
      h('p', { class: 'group-label', id: `jf-g-${concept}` }, names.get(concept) || concept),
      ...qs.map((q) => h('p', { class: 'check' },
        h('input', { type: 'checkbox', id: `jf-q-${q.id}`, value: q.id }),
        h('label', { for: `jf-q-${q.id}` }, q.text, h('span', { class: 'muted' }, ` (${q.expects})`)))))));
  }).catch((err) => { bank.replaceChildren(bank.firstChild, h('p', {}, `The question bank could not be loaded (${err.message}).`)); });

  // Server problems → the control they are about.
  const target = (fieldPath) => {
    const f = fieldPath || '';
    const map = [['title', 'jf-title'], ['family', 'jf-family'], ['duration_minutes', 'jf-duration'], ['template', 'jf-preset'],
      ['description', 'jf-description'], ['role_brief', 'jf-brief'], ['language', 'jf-lang'], ['skills.required', 'jf-required'],
      ['skills.preferred', 'jf-preferred'], ['competencies', 'jf-competencies'], ['knockouts', 'jf-years'],
      ['custom_questions', 'jf-bank'], ['blueprints', 'jf-bank'], ['rubric', 'jf-rubric']];
    const hit = map.find(([prefix]) => f === prefix || f.startsWith(`${prefix}.`) || f.startsWith(`${prefix}[`));
    return hit ? hit[1] : null;
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    const picked = [...form.querySelectorAll('#jf-bank input[type=checkbox]:checked')].map((c) => bankQuestions.find((q) => q.id === c.value)).filter(Boolean);
    const rubric = v('jf-rubric').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [name, weight, ...rest] = l.split(',');
      return { name: (name || '').trim(), weight: Math.max(0, Math.round(Number(weight))) || 0, description: rest.join(',').trim() || (name || '').trim() };
    });
    const years = v('jf-years');
    const config = {
      title: v('jf-title'),
      family: v('jf-family'),
      description: v('jf-description'),
      role_brief: v('jf-brief'),
      duration_minutes: Math.round(Number(v('jf-duration'))) || 0,
      template: { preset: v('jf-preset') },
      language: { interview: v('jf-lang') || 'en', ...(v('jf-cefr') ? { min_cefr: v('jf-cefr') } : {}) },
      skills: { required: skillLines(v('jf-required')), preferred: skillLines(v('jf-preferred')) },
      competencies: v('jf-competencies').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.indexOf(':');
        return i > 0 ? { name: l.slice(0, i).trim(), description: l.slice(i + 1).trim() } : { name: l, description: '' };
      }),
      knockouts: years ? [{
        name: 'Professional experience',
        question: 'To start, how many years of professional experience do you have in this kind of role?',
        fail_if: `Less than ${years} years of professional experience`,
        rule: 'min-years', threshold: Number(years), on_fail: 'flag-and-continue',
      }] : [],
      custom_questions: picked.map((q) => q.spec),
      rubric: { dimensions: rubric },
    };
    await saveJob(JSON.stringify(config, null, 2), errors, null, {
      json: true,
      onIssue: (d) => {
        const id = target(d.field);
        if (!id) return;
        const el = form.querySelector(`#${id}`);
        const msg = form.querySelector(`#${id}-error`);
        el.setAttribute('aria-invalid', 'true');
        msg.hidden = false;
        msg.textContent = [msg.textContent, issueText({ ...d, line: null })].filter(Boolean).join(' ');
      },
    });
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) (first.matches('[role=group]') ? first.querySelector('input') || first : first).focus();
  });
  return h('section', { 'aria-labelledby': 'h-jf' },
    h('h3', { id: 'h-jf' }, 'From a form'),
    h('details', { id: 'job-form-details' }, h('summary', {}, 'Show the job form'), form));
}

// ---- one job: invites and ranked candidates
async function renderJob(id) {
  const [job, { invites }, { interviews }, feedback] = await Promise.all([
    api(`/v1/jobs/${encodeURIComponent(id)}`),
    api(`/v1/jobs/${encodeURIComponent(id)}/invites`),
    api(`/v1/interviews?job_id=${encodeURIComponent(id)}`),
    api(`/v1/jobs/${encodeURIComponent(id)}/feedback`).catch(() => null),
  ]);
  const reports = await Promise.all(interviews.map((iv) =>
    iv.state === 'completed' || iv.state === 'interrupted' || iv.state === 'scored'
      ? api(`/v1/interviews/${encodeURIComponent(iv.id)}/report`).catch(() => null)
      : null));
  const rows = interviews.map((iv, i) => ({ iv, report: reports[i] }))
    .sort((a, b) => (b.report?.composite ?? -1) - (a.report?.composite ?? -1));

  // Invites
  const created = h('div', { id: 'invite-created', role: 'status' });
  const inviteForm = h('form', { id: 'invite-form', class: 'inline' },
    h('label', { for: 'inv-name' }, 'Candidate name'), h('input', { id: 'inv-name' }),
    h('label', { for: 'inv-email' }, 'Email'), h('input', { id: 'inv-email', type: 'email' }),
    h('label', { for: 'inv-hours' }, 'Valid for (hours)'), h('input', { id: 'inv-hours', type: 'number', min: 1, max: 2160, value: 168 }),
    h('button', { type: 'submit', class: 'primary' }, 'Create invite'));
  inviteForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const body = { expires_in_hours: Number($('inv-hours').value) || undefined };
      if ($('inv-name').value.trim()) body.candidate_name = $('inv-name').value.trim();
      if ($('inv-email').value.trim()) body.candidate_email = $('inv-email').value.trim();
      const r = await api(`/v1/jobs/${encodeURIComponent(id)}/invites`, { method: 'POST', body });
      const link = new URL(r.link, location.origin).toString();
      await renderJob(id);
      const copy = h('button', { id: 'copy-link' }, 'Copy link');
      copy.addEventListener('click', () => copyText(link, copy));
      const phone = r.dial_in_number
        ? ['By phone: call ', h('code', {}, r.dial_in_number), ' and enter PIN ']
        : ['Phone PIN (for the dial-in line): '];
      $('invite-created').replaceChildren(h('p', {}, 'Invite created. The link and PIN are shown only now: ',
        h('code', { id: 'invite-link' }, link), ' '), copy,
        h('p', {}, ...phone, h('code', { id: 'invite-pin' }, r.pin), '.'));
      copy.focus();
    } catch (err) { alertMsg(err.message); }
  });
  const inviteRows = invites.map((inv) => {
    const st = inv.revoked_at ? 'revoked' : inv.used_at ? 'used' : inv.expires_at < Date.now() ? 'expired' : 'open';
    const revoke = h('button', { class: 'small', 'aria-label': `Revoke invite ${inv.id}` }, 'Revoke');
    revoke.disabled = st !== 'open';
    revoke.addEventListener('click', async () => {
      try { await api(`/v1/invites/${encodeURIComponent(inv.id)}`, { method: 'DELETE' }); await renderJob(id); }
      catch (err) { alertMsg(err.message); }
    });
    return h('tr', {}, h('td', {}, h('code', {}, inv.id)), h('td', {}, fmtDate(inv.created_at)),
      h('td', {}, fmtDate(inv.expires_at)), h('td', {}, st), h('td', {}, revoke));
  });

  // Candidates, ranked, with filters
  const recFilter = h('select', { id: 'f-rec' }, ...['All', 'Strong Yes', 'Yes', 'Maybe', 'No', 'Not scored'].map((r) => h('option', { value: r }, r)));
  const minFilter = h('input', { id: 'f-min', type: 'number', min: 0, max: 100, value: 0 });
  const tbody = h('tbody', { id: 'candidates' });
  const fill = () => {
    const rec = recFilter.value;
    const min = Number(minFilter.value) || 0;
    const shown = rows.filter(({ report }) => {
      const r = report ? inForce(report) : undefined;
      if (rec === 'Not scored' ? report : rec !== 'All' && r !== rec) return false;
      return (report?.composite ?? 0) >= min || (!report && min === 0);
    });
    tbody.replaceChildren(...shown.map(({ iv, report }, i) => h('tr', {},
      h('td', {}, String(i + 1)),
      h('td', {}, h('a', { href: `#/interviews/${encodeURIComponent(iv.id)}` }, shownCandidate(iv, report))),
      h('td', { class: 'num' }, report ? report.composite.toFixed(1) : '—'),
      h('td', {}, report ? badge(inForce(report)) : h('span', { class: 'muted' }, (iv.state === 'completed' || iv.state === 'interrupted') ? 'scoring…' : iv.state)),
      h('td', {}, fmtDate(iv.ended_at || iv.created_at)))));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: 5 }, 'No candidates match.')));
  };
  recFilter.addEventListener('change', fill);
  minFilter.addEventListener('input', fill);
  fill();
  // The ranked list for a spreadsheet (name-blind as here; fetched with the token, saved as a file).
  const exportCsv = h('button', { id: 'export-csv', class: 'small' }, 'Download as CSV');
  exportCsv.addEventListener('click', async () => {
    try {
      const r = await api(`/v1/jobs/${encodeURIComponent(id)}/candidates.csv`, { raw: true });
      const url = URL.createObjectURL(await r.blob());
      const a = h('a', { href: url, download: `${job.title.replace(/[^A-Za-z0-9]+/g, '-')}-candidates.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { alertMsg(err.message); }
  });

  view.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' › ', job.title),
    h('h1', {}, job.title),
    h('p', { class: 'muted' }, `Version ${job.version} · updated ${fmtDate(job.updated_at)}`),
    h('h2', { id: 'h-candidates' }, 'Candidates, best first'),
    h('div', { class: 'inline filters', role: 'group', 'aria-label': 'Filters' },
      h('label', { for: 'f-rec' }, 'Recommendation'), recFilter,
      h('label', { for: 'f-min' }, 'Minimum composite'), minFilter, exportCsv),
    h('table', { class: 'list', 'aria-labelledby': 'h-candidates' },
      h('thead', {}, h('tr', {}, ...['Rank', 'Candidate', 'Composite', 'Recommendation', 'Date'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody),
    feedbackSection(feedback),
    h('h2', {}, 'Invites'),
    inviteForm, created,
    invites.length ? h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, ...['Invite', 'Created', 'Expires', 'State', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...inviteRows)) : h('p', {}, 'No invites yet.'),
    h('details', {}, h('summary', {}, 'Job configuration'), h('pre', {}, job.config_toml)));
}

// What candidates said about the interview itself (never part of their assessment).
function feedbackSection(f) {
  const section = h('section', { id: 'feedback', 'aria-labelledby': 'h-feedback' },
    h('h2', { id: 'h-feedback' }, 'Candidate experience'));
  if (!f || !f.count) {
    section.append(h('p', { class: 'muted' }, 'No ratings yet. Candidates are asked for one (1–5) after the closing words.'));
    return section;
  }
  const most = Math.max(...f.distribution, 1);
  section.append(
    h('p', { id: 'feedback-average' }, `${f.average.toFixed(1)} / 5 from ${f.count} rating${f.count === 1 ? '' : 's'}`),
    h('table', { class: 'list', 'aria-label': 'Ratings by value' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rating'), h('th', { scope: 'col' }, 'Interviews'), h('th', { scope: 'col' }, ''))),
      h('tbody', {}, ...[5, 4, 3, 2, 1].map((r) => h('tr', {},
        h('td', {}, String(r)), h('td', { class: 'num' }, String(f.distribution[r - 1])),
        h('td', {}, h('meter', { min: 0, max: most, value: f.distribution[r - 1], 'aria-label': `${f.distribution[r - 1]} rated ${r}` })))))));
  if (f.comments.length) {
    section.append(h('h3', {}, 'Comments'), h('ul', { class: 'comments' },
      ...f.comments.map((c) => h('li', {}, h('strong', {}, `${c.rating}/5`), ` ${c.comment} `,
        h('span', { class: 'muted' }, `— ${fmtDate(c.created_at)}`)))));
  }
  return section;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    const r = document.createRange();
    r.selectNodeContents($('invite-link'));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    button.textContent = 'Selected — press Ctrl+C';
  }
}

// ---- one interview: report and replay
async function renderInterview(id) {
  const iv = await api(`/v1/interviews/${encodeURIComponent(id)}`);
  const [report, transcript] = await Promise.all([
    api(`/v1/interviews/${encodeURIComponent(id)}/report`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    api(`/v1/interviews/${encodeURIComponent(id)}/transcript`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
  ]);
  const player = h('section', { class: 'replay', 'aria-labelledby': 'h-replay' });
  const reportEl = h('section', { class: 'report', 'aria-labelledby': 'h-report' });
  view.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' › ',
      h('a', { href: `#/jobs/${encodeURIComponent(iv.job_id)}` }, report?.job_title || 'Job'), ' › ', shownCandidate(iv, report)),
    h('h1', { id: 'h-candidate' }, shownCandidate(iv, report)),
    h('div', { class: 'split' }, reportEl, player));
  const replay = createReplay(player, {
    transcript,
    // A signed link: <audio src> cannot send the bearer token, and streams with Range requests.
    loadAudio: async () => (await api(`/v1/interviews/${encodeURIComponent(id)}/recording/link`, { method: 'POST' })).url,
  });
  window.vivaDashboard.replay = replay;
  // A review action re-reads the report and redraws it; the player keeps playing.
  const refresh = async (focusId) => {
    const r = await api(`/v1/interviews/${encodeURIComponent(id)}/report`);
    renderReport(reportEl, r, replay, id, refresh);
    const name = shownCandidate(iv, r);
    view.querySelector('#h-candidate').textContent = name;
    view.querySelector('.crumbs').lastChild.textContent = name;
    if (focusId) $(focusId)?.focus();
  };
  renderReport(reportEl, report, replay, id, refresh);
}

/// The recommendation in force: a human override when there is one, else the engine's.
const inForce = (report) => report.review?.effective_recommendation || report.decision.recommendation;
/// How the candidate is shown: an id while the review is name-blind, the name once revealed.
const shownCandidate = (iv, report) => {
  const rv = report?.review;
  if (rv?.revealed) return rv.candidate_name || rv.candidate;
  return `Candidate ${iv.candidate_id.slice(0, 8)}`;
};

/// Human review: identity (name-blind until revealed, with a reason, audit-logged), the
/// recommendation in force, a form to override it (who, when, why kept), and both logs.
function reviewSection(rv, id, refresh) {
  const when = (o) => fmtDate(o.at);
  const status = h('p', { id: 'review-status', role: 'status' });
  // Both forms POST to a route of this interview, then redraw the report and focus what changed.
  const postOnSubmit = (form, route, body, focusId) => form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/v1/interviews/${encodeURIComponent(id)}/${route}`, { method: 'POST', body: body() });
      await refresh(focusId);
    } catch (err) { status.textContent = err.message; status.className = 'errors'; }
  });

  const identity = rv.revealed
    ? h('p', { id: 'review-identity', tabindex: -1 }, h('strong', {}, 'Candidate: '), rv.candidate)
    : h('p', { id: 'review-identity', tabindex: -1 }, h('strong', {}, 'Candidate: '), rv.candidate,
      h('span', { class: 'muted' }, ' — name-blind: the name is hidden in this report and its quotes until someone reveals it.'));
  let revealForm = null;
  if (!rv.revealed) {
    revealForm = h('form', { id: 'reveal-form', class: 'inline' },
      h('label', { for: 'reveal-reason' }, 'Reason for revealing'),
      h('input', { id: 'reveal-reason', required: true, maxlength: 1000, placeholder: 'e.g. scheduling the next round' }),
      h('button', { type: 'submit' }, 'Reveal identity'));
    postOnSubmit(revealForm, 'reveal', () => ({ reason: $('reveal-reason').value }), 'review-identity');
  }

  const overridden = rv.effective_recommendation !== rv.engine_recommendation;
  const inForceLine = h('p', { id: 'review-in-force', tabindex: -1 }, h('strong', {}, 'Recommendation in force: '), badge(rv.effective_recommendation),
    overridden ? h('span', {}, ` — a human override; viva recommended ${rv.engine_recommendation}`) : h('span', { class: 'muted' }, ' — viva\'s, not overridden'));
  const recSelect = h('select', { id: 'override-rec' },
    ...['Strong Yes', 'Yes', 'Maybe', 'No'].map((r) => h('option', { value: r, selected: r === rv.effective_recommendation }, r)));
  const overrideForm = h('form', { id: 'override-form', class: 'inline' },
    h('label', { for: 'override-rec' }, 'Change to'), recSelect,
    h('label', { for: 'override-reason' }, 'Why'),
    h('input', { id: 'override-reason', required: true, maxlength: 1000, placeholder: 'kept with your name and the time' }),
    h('button', { type: 'submit' }, 'Record override'));
  postOnSubmit(overrideForm, 'overrides', () => ({ recommendation: recSelect.value, reason: $('override-reason').value }), 'review-in-force');

  const log = (title, idAttr, rows, cols, cells) => (rows.length
    ? h('div', {}, h('h4', {}, title), h('table', { class: 'list', id: idAttr },
      h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...cells(r).map((c) => h('td', {}, c)))))))
    : null);
  return h('section', { id: 'review' }, h('h3', {}, 'Human review'),
    identity, revealForm, inForceLine, overrideForm, status,
    log('Overrides', 'override-log', rv.overrides, ['When', 'Who', 'Change', 'Why'],
      (o) => [when(o), o.by, `${o.from} → ${o.to}`, o.reason]),
    log('Identity reveals', 'reveal-log', rv.reveals, ['When', 'Who', 'Why'], (r) => [when(r), r.by, r.reason]));
}

function renderReport(el, r, replay, id, refresh) {
  if (!r) return el.replaceChildren(h('h2', { id: 'h-report' }, 'Report'), h('p', {}, 'Not scored yet.'));
  const quote = (q) => {
    const label = q.start_ms != null ? `“${q.text}” (${fmtTime(q.start_ms)})` : `“${q.text}”`;
    if (q.start_ms == null) return h('q', { class: 'quote' }, q.text);
    const a = h('a', { href: `#t=${q.start_ms}`, class: 'quote', 'data-start-ms': q.start_ms, title: 'Play from here' }, label);
    a.addEventListener('click', (e) => { e.preventDefault(); replay.seek(q.start_ms, true); });
    return a;
  };
  const languageName = (tag) => ({ en: 'English', es: 'Spanish', de: 'German' }[tag] || tag);
  const evidence = (list) => (list?.length ? h('ul', { class: 'evidence' }, ...list.map((q) => h('li', {}, quote(q)))) : h('p', { class: 'muted' }, 'No evidence quoted.'));
  const section = (title, ...children) => h('section', {}, h('h3', {}, title), ...children);
  const table = (cols, rows) => h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, ...rows));
  const d = r.decision;
  const c = r.confidence;
  el.replaceChildren(...[
    h('h2', { id: 'h-report' }, 'Report'),
    h('div', { class: 'headline' },
      h('span', { class: 'composite' }, h('span', { class: 'big' }, r.composite.toFixed(1)), ' / 100'),
      badge(inForce(r))),
    h('p', {}, r.summary),
    r.interview_languages?.length
      ? h('p', { class: 'muted', id: 'report-languages' }, `Interview held in ${r.interview_languages.map(languageName).join(', then ')}; quotes are the candidate's own words, untranslated.`)
      : null,
    r.accommodations?.length
      ? h('p', { class: 'muted', id: 'report-accommodations' }, `Accommodations: ${r.accommodations.join('; ')}. They changed the interview, not the score.`)
      : null,
    r.review ? reviewSection(r.review, id, refresh) : null,
    section('Recommendation',
      h('p', {}, d.rationale),
      d.overridden_by ? h('p', {}, h('strong', {}, 'Overridden: '), d.overridden_by, ` (by score alone: ${d.by_score})`) : null,
      h('p', { class: 'muted' }, 'Thresholds: ', d.thresholds.map((t) => `${t.recommendation} ≥ ${t.min_composite}`).join(' · '))),
    section('Confidence',
      h('p', {}, `Overall ${pct(c.overall)} · coverage ${pct(c.coverage)} · transcription quality ${pct(c.transcription_quality)}`),
      c.notes?.length ? h('ul', {}, ...c.notes.map((n) => h('li', {}, n))) : null),
    section('Knockouts', r.knockouts.length ? h('ul', { class: 'items' }, ...r.knockouts.map((k) => h('li', {},
      h('strong', {}, k.name), ` — ${k.verdict}`, h('span', { class: 'muted' }, ` (fails if ${k.fail_if})`), evidence(k.evidence)))) : h('p', { class: 'muted' }, 'None configured.')),
    section('Must-have competencies', h('ul', { class: 'items' }, ...r.competencies.map((k) => h('li', {},
      h('strong', {}, k.name), k.passed ? ' — passed' : ' — not shown', h('p', {}, k.reason), evidence(k.evidence))))),
    section('Required skills', skills(r.required_skills, evidence)),
    section('Preferred skills', skills(r.preferred_skills, evidence)),
    section('Rubric', table(['Dimension', 'Weight', 'Score', 'Contribution'], r.dimensions.map((x) => h('tr', {},
      h('td', {}, h('strong', {}, x.name), h('p', { class: 'muted' }, x.reason), evidence(x.evidence)),
      h('td', { class: 'num' }, `${x.weight}`), h('td', { class: 'num' }, x.score.toFixed(1)), h('td', { class: 'num' }, x.contribution.toFixed(1)))))),
    section('Questions', r.questions.length ? h('ol', { class: 'items' }, ...r.questions.map((q) => h('li', {},
      h('strong', {}, q.question), ` — ${q.score}/5 (${q.anchor})`,
      q.reasons?.length ? h('ul', {}, ...q.reasons.map((x) => h('li', {}, x))) : null,
      q.follow_ups ? h('p', { class: 'muted' }, `${q.follow_ups} follow-up(s)`) : null, evidence(q.evidence)))) : h('p', { class: 'muted' }, 'No question was answered.')),
    section('Depth by concept', r.concepts.length ? h('ul', { class: 'items' }, ...r.concepts.map((k) => h('li', {},
      h('strong', {}, k.concept), ` — ${k.depth}`,
      h('ul', {}, ...k.areas.map((a) => h('li', {}, `${a.area}: ${a.depth}`, evidence(a.evidence))))))) : h('p', { class: 'muted' }, 'No concept was discussed.')),
    r.language ? section('Language', h('p', {}, `${r.language.language}: assessed ${r.language.assessed} (${r.language.range})`,
      r.language.required ? `, required ${r.language.required}${r.language.meets_requirement === false ? ' — not met' : r.language.meets_requirement ? ' — met' : ''}` : ''),
      evidence(r.language.evidence)) : null,
    section('Strengths', list(r.strengths)),
    section('Risks', list(r.risks)),
    section('Notable quotes', evidence(r.notable_quotes)),
    r.weakest_quotes?.length ? section('Weakest moments', evidence(r.weakest_quotes)) : null,
    r.integrity_signals?.length ? section('Integrity signals',
      h('p', { class: 'muted' }, 'Information only: not part of any score or the recommendation.'),
      h('ul', { id: 'integrity-signals' }, ...r.integrity_signals.map((s) => {
        const at = h('a', { href: `#t=${s.start_ms}`, title: 'Play from here' }, fmtTime(s.start_ms));
        at.addEventListener('click', (e) => { e.preventDefault(); replay.seek(s.start_ms, true); });
        return h('li', {}, at, ` ${s.question} — ${s.detail}. `, h('em', {}, s.meaning));
      }))) : null,
    section('Suggested next step', h('p', {}, r.next_step)),
    section('Coverage', h('p', {}, `${r.coverage.overall_pct.toFixed(0)}% overall · questions answered ${ratio(r.coverage.questions_answered)} · required skills ${ratio(r.coverage.required_skills)} · competencies ${ratio(r.coverage.competencies)} · follow-ups ${r.coverage.follow_ups}`,
      r.coverage.duration_ms != null ? ` · ${fmtTime(r.coverage.duration_ms)} long` : ''),
      r.coverage.gaps?.length ? h('ul', {}, ...r.coverage.gaps.map((g) => h('li', {}, g))) : null),
    section('Questions the candidate asked', list(r.candidate_questions)),
    h('p', { class: 'muted' }, `Scorer ${r.scorer_version} · grader ${r.grader_version} · ended: ${r.ended}`),
  ].filter(Boolean));
}

const pct = (x) => `${Math.round((x ?? 0) * 100)}%`;
const ratio = (x) => (x ? `${x.done}/${x.total}` : '—');
const list = (xs) => (xs?.length ? h('ul', {}, ...xs.map((x) => h('li', {}, x))) : h('p', { class: 'muted' }, 'None.'));
function skills(xs, evidence) {
  if (!xs?.length) return h('p', { class: 'muted' }, 'None configured.');
  return h('ul', { class: 'items' }, ...xs.map((s) => h('li', {},
    h('strong', {}, s.name), ` — ${s.score}/10 (${s.level})`, h('p', { class: 'muted' }, s.reason), evidence(s.evidence))));
}

render();
