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
  const errors = h('ul', { class: 'errors', id: 'job-errors' });
  const form = h('form', { id: 'job-form' },
    h('label', { for: 'job-toml' }, 'Job configuration (TOML, as checked by ', h('code', {}, 'viva job validate'), ')'),
    h('textarea', { id: 'job-toml', rows: 10, spellcheck: 'false', required: true }),
    h('button', { type: 'submit', class: 'primary' }, 'Create job'),
    errors);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    try {
      const job = await api('/v1/jobs', { method: 'POST', body: { config_toml: $('job-toml').value } });
      location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (err) {
      alertMsg(err.message);
      for (const d of err.body?.details || []) {
        errors.append(h('li', {}, typeof d === 'string' ? d : [d.field, d.line && `line ${d.line}`, d.message].filter(Boolean).join(' — ')));
      }
    }
  });
  view.replaceChildren(
    h('h1', {}, 'Jobs'),
    jobs.length ? h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Job'), h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'Updated'))),
      h('tbody', {}, ...jobs.map((j) => h('tr', {},
        h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.title)),
        h('td', {}, String(j.version)),
        h('td', {}, fmtDate(j.updated_at))))))
      : h('p', {}, 'No jobs yet.'),
    h('h2', {}, 'Create a job from its configuration'),
    form);
}

// ---- one job: invites and ranked candidates
async function renderJob(id) {
  const [job, { invites }, { interviews }] = await Promise.all([
    api(`/v1/jobs/${encodeURIComponent(id)}`),
    api(`/v1/jobs/${encodeURIComponent(id)}/invites`),
    api(`/v1/interviews?job_id=${encodeURIComponent(id)}`),
  ]);
  const reports = await Promise.all(interviews.map((iv) =>
    iv.state === 'completed' || iv.state === 'scored'
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
      $('invite-created').replaceChildren(h('p', {}, 'Invite created. The link is shown only now: ',
        h('code', { id: 'invite-link' }, link), ' '), copy);
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
      const r = report?.decision?.recommendation;
      if (rec === 'Not scored' ? report : rec !== 'All' && r !== rec) return false;
      return (report?.composite ?? 0) >= min || (!report && min === 0);
    });
    tbody.replaceChildren(...shown.map(({ iv, report }, i) => h('tr', {},
      h('td', {}, String(i + 1)),
      h('td', {}, h('a', { href: `#/interviews/${encodeURIComponent(iv.id)}` }, `Candidate ${iv.candidate_id.slice(0, 8)}`)),
      h('td', { class: 'num' }, report ? report.composite.toFixed(1) : '—'),
      h('td', {}, report ? badge(report.decision.recommendation) : h('span', { class: 'muted' }, iv.state === 'completed' ? 'scoring…' : iv.state)),
      h('td', {}, fmtDate(iv.ended_at || iv.created_at)))));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: 5 }, 'No candidates match.')));
  };
  recFilter.addEventListener('change', fill);
  minFilter.addEventListener('input', fill);
  fill();

  view.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' › ', job.title),
    h('h1', {}, job.title),
    h('p', { class: 'muted' }, `Version ${job.version} · updated ${fmtDate(job.updated_at)}`),
    h('h2', { id: 'h-candidates' }, 'Candidates, best first'),
    h('div', { class: 'inline filters', role: 'group', 'aria-label': 'Filters' },
      h('label', { for: 'f-rec' }, 'Recommendation'), recFilter,
      h('label', { for: 'f-min' }, 'Minimum composite'), minFilter),
    h('table', { class: 'list', 'aria-labelledby': 'h-candidates' },
      h('thead', {}, h('tr', {}, ...['Rank', 'Candidate', 'Composite', 'Recommendation', 'Date'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody),
    h('h2', {}, 'Invites'),
    inviteForm, created,
    invites.length ? h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, ...['Invite', 'Created', 'Expires', 'State', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...inviteRows)) : h('p', {}, 'No invites yet.'),
    h('details', {}, h('summary', {}, 'Job configuration'), h('pre', {}, job.config_toml)));
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
      h('a', { href: `#/jobs/${encodeURIComponent(iv.job_id)}` }, report?.job_title || 'Job'), ' › ', `Candidate ${iv.candidate_id.slice(0, 8)}`),
    h('h1', {}, `Candidate ${iv.candidate_id.slice(0, 8)}`),
    h('div', { class: 'split' }, reportEl, player));
  const replay = createReplay(player, {
    transcript,
    loadAudio: async () => URL.createObjectURL(await (await api(`/v1/interviews/${encodeURIComponent(id)}/recording`, { raw: true })).blob()),
  });
  window.vivaDashboard.replay = replay;
  renderReport(reportEl, report, replay);
}

function renderReport(el, r, replay) {
  if (!r) return el.replaceChildren(h('h2', { id: 'h-report' }, 'Report'), h('p', {}, 'Not scored yet.'));
  const quote = (q) => {
    const label = q.start_ms != null ? `“${q.text}” (${fmtTime(q.start_ms)})` : `“${q.text}”`;
    if (q.start_ms == null) return h('q', { class: 'quote' }, q.text);
    const a = h('a', { href: `#t=${q.start_ms}`, class: 'quote', 'data-start-ms': q.start_ms, title: 'Play from here' }, label);
    a.addEventListener('click', (e) => { e.preventDefault(); replay.seek(q.start_ms, true); });
    return a;
  };
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
      badge(d.recommendation)),
    h('p', {}, r.summary),
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
