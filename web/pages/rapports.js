// Rapports: the reports for the chain of command, as of an instant (now, or a Paris time in the past): the
// LOGSTAT's answer in a sentence, its totals and lines (those resting on a late count flagged), the changes since
// an earlier instant, and the same report to download as PDF, XLSX or CSV.
import { api, caller, may, h, table, toast, errorBox } from '../api.js';
import { t, tf, num, pct, time, stateLabel } from '../i18n.js';

/** The query of a report: `at` and `since` as Paris local times (`YYYY-MM-DD HH:MM`), the organisation. */
function query(/** @type {Record<string, string>} */ q, /** @type {string} */ format) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, k === 'at' || k === 'since' ? v.replace('T', ' ') : v);
  if (format !== 'json') p.set('format', format);
  return p.toString();
}

export async function show(view, params) {
  const q = { at: params.get('at') || '', since: params.get('since') || '', org: params.get('org') || '' };
  const at = h('input', { type: 'datetime-local', id: 'rep-at', name: 'at', value: q.at });
  const since = h('input', { type: 'datetime-local', id: 'rep-since', name: 'since', value: q.since });
  const orgs = caller()?.organization_id || !may('logistics:read') ? [] : (await api('/api/v1/organizations?limit=1000')).items;
  const org = h('select', { id: 'rep-org', name: 'org' }, h('option', { value: '' }, t('national')),
    orgs.map((/** @type {any} */ o) => h('option', { value: o.id, selected: o.id === q.org ? '' : undefined }, o.name)));
  const form = h('form', { class: 'panel row', id: 'rep-form', onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    location.hash = `#/rapports?${query({ at: at.value, since: since.value, org: org.value }, 'json')}`;
  } },
  h('label', { for: 'rep-at' }, t('rep_at')), at,
  h('label', { for: 'rep-since' }, t('rep_since')), since,
  orgs.length ? [h('label', { for: 'rep-org' }, t('organisation')), org] : null,
  h('button', { type: 'submit', class: 'primary' }, t('rep_show')));
  const parts = [form, await drafted(q)];
  const sitrep = await api(`/api/v1/reports/sitrep?${query({ at: q.at, since: q.since }, 'json')}`);
  parts.push(sitrepPanel(sitrep, q));
  if (!may('logistics:read')) {
    view.replaceChildren(...parts);
    return {};
  }
  const r = await api(`/api/v1/reports/logstat?${query(q, 'json')}`);
  const short = r.totals.filter((/** @type {any} */ x) => x.balance_24h < 0);
  const answer = h('p', { class: 'sentence', id: 'logstat-answer' },
    short.length
      ? h('strong', { class: 'warn' }, tf('ls_short', { n: short.length, of: r.totals.length,
        items: short.slice(0, 6).map((/** @type {any} */ x) => x.item).join(', ') }))
      : h('strong', {}, tf('ls_none_short', { of: r.totals.length })),
    r.lines_late ? [' ', h('span', { class: 'warn' }, tf('ls_late', { n: r.lines_late, hours: r.expected_count_hours }))] : null);
  const asOf = h('p', { class: 'muted' }, tf('ls_as_of', { at: time(r.at), seq: r.seq }));
  const downloads = files('logstat', { ...q, at: q.at || r.at });
  const columns = [
    { label: t('organisation'), value: (/** @type {any} */ l) => l.organization },
    { label: t('item'), value: (/** @type {any} */ l) => l.item },
    { label: t('available'), num: true, value: (/** @type {any} */ l) => num(l.available) },
    { label: t('incoming'), num: true, value: (/** @type {any} */ l) => num(l.incoming) },
    { label: t('ls_need_24'), num: true, value: (/** @type {any} */ l) => num(l.need) },
    { label: t('coverage'), num: true, value: (/** @type {any} */ l) => (l.coverage == null ? '—' : pct(l.coverage)) },
    { label: t('ls_days'), num: true, value: (/** @type {any} */ l) => (l.days_of_supply == null ? '—' : num(l.days_of_supply, 1)) },
    { label: t('ls_balance_24'), num: true, value: (/** @type {any} */ l) => num(l.balance_24h), cls: (/** @type {any} */ l) => (l.balance_24h < 0 ? 'bad' : '') },
    { label: t('ls_balance_72'), num: true, value: (/** @type {any} */ l) => num(l.balance_72h), cls: (/** @type {any} */ l) => (l.balance_72h < 0 ? 'bad' : '') },
    { label: t('rep_last_count'), value: (/** @type {any} */ l) => (l.oldest_count ? time(l.oldest_count) : '—') },
    { label: t('ls_late_sites'), value: (/** @type {any} */ l) => l.late_sites.join(', ') + (l.late_site_count > l.late_sites.length ? `… (+${l.late_site_count - l.late_sites.length})` : ''),
      cls: (/** @type {any} */ l) => (l.late_site_count ? 'warn' : '') },
  ];
  parts.push(h('div', { class: 'panel', id: 'logstat' }, h('h2', {}, 'LOGSTAT'), answer, asOf, downloads,
    h('h3', {}, t('ls_totals')), table(columns, r.totals, { empty: t('no_data') }),
    h('h3', {}, t('ls_lines')), table(columns, r.lines.slice(0, 500), { empty: t('no_data') })));
  if (r.changes) {
    parts.push(h('div', { class: 'panel', id: 'logstat-changes' },
      h('h2', {}, tf('ls_changes', { since: time(r.changes.since), n: r.changes.lines.length })),
      table([
        { label: t('organisation'), value: (/** @type {any} */ c) => c.organization },
        { label: t('item'), value: (/** @type {any} */ c) => c.item },
        { label: t('available'), num: true, value: (/** @type {any} */ c) => `${num(c.available_before)} → ${num(c.available)}` },
        { label: t('ls_need_24'), num: true, value: (/** @type {any} */ c) => `${num(c.need_before)} → ${num(c.need)}` },
        { label: t('ls_balance_24'), num: true, value: (/** @type {any} */ c) => `${num(c.balance_24h_before)} → ${num(c.balance_24h)}`,
          cls: (/** @type {any} */ c) => (c.balance_24h < c.balance_24h_before ? 'bad' : '') },
      ], r.changes.lines.slice(0, 200), { empty: t('no_data') })));
  }
  view.replaceChildren(...parts);
  return {};
}

/** Links to a report's files, for the same instant (the one shown, so that the file is the report read). */
function files(/** @type {string} */ kind, /** @type {Record<string, string>} */ q) {
  return h('p', { class: 'row', id: `${kind}-files` }, t('rep_download'),
    ['pdf', 'xlsx', 'csv'].map((f) => h('a', { class: 'button', href: `/api/v1/reports/${kind}?${query(q, f)}`, download: '' },
      f.toUpperCase())));
}

/** The SITREP: the situation in a sentence, then each part the caller may read. */
function sitrepPanel(/** @type {any} */ s, /** @type {Record<string, string>} */ q) {
  const said = [];
  if (s.it) said.push(tf('sr_sites', { n: s.it.sites_not_ok.length, of: s.it.sites }));
  if (s.incidents) said.push(tf('sr_incidents', { n: s.incidents.open, p1: s.incidents.open_by_priority[0] }));
  if (s.logistics) said.push(tf('sr_short', { n: s.logistics.shortfalls.length, of: s.logistics.items_followed }));
  if (s.decisions) said.push(tf('sr_decisions', { n: s.decisions.length }));
  const bad = (s.it?.sites_not_ok.length || 0) + (s.incidents?.open_by_priority[0] || 0) + (s.logistics?.shortfalls.length || 0);
  const body = [h('h2', {}, 'SITREP'),
    h('p', { class: 'sentence', id: 'sitrep-answer' }, h('strong', { class: bad ? 'warn' : undefined }, `${said.join(' ; ')}.`)),
    h('p', { class: 'muted' }, tf('sr_as_of', { at: time(s.at), seq: s.seq, from: time(s.period_from) })),
    files('sitrep', { at: q.at || s.at, since: q.since })];
  if (s.it?.sites_not_ok.length) {
    body.push(h('h3', {}, t('sr_sites_not_ok')), table([
      { label: t('site'), value: (/** @type {any} */ g) => g.name },
      { label: t('state'), value: (/** @type {any} */ g) => stateLabel(g.state) },
      { label: t('since'), value: (/** @type {any} */ g) => (g.since ? time(g.since) : '—') },
    ], s.it.sites_not_ok));
  }
  if (s.incidents?.worst_open.length) {
    body.push(h('h3', {}, t('sr_worst')), table([
      { label: 'N°', value: (/** @type {any} */ i) => h('a', { href: `#/incidents?q=${encodeURIComponent(i.number)}` }, i.number) },
      { label: 'P', value: (/** @type {any} */ i) => `P${i.priority}` },
      { label: t('state'), value: (/** @type {any} */ i) => i.state },
      { label: t('sr_summary'), value: (/** @type {any} */ i) => i.short_description },
    ], s.incidents.worst_open));
  }
  if (s.logistics?.shortfalls.length) {
    body.push(h('h3', {}, t('sr_shortfalls')), table([
      { label: t('item'), value: (/** @type {any} */ x) => x.item },
      { label: t('sr_missing'), num: true, value: (/** @type {any} */ x) => `${num(x.missing_24h)} ${x.unit}` },
      { label: t('organisation'), value: (/** @type {any} */ x) => x.organizations.join(', ') },
    ], s.logistics.shortfalls));
  }
  if (s.decisions?.length) {
    body.push(h('h3', {}, t('sr_decision_list')), table([
      { label: t('sr_when'), value: (/** @type {any} */ d) => time(d.at) },
      { label: t('sr_by'), value: (/** @type {any} */ d) => d.by },
      { label: t('sr_decision'), value: (/** @type {any} */ d) => d.text },
    ], s.decisions));
  }
  return h('div', { class: 'panel', id: 'sitrep' }, ...body);
}

const STATUS = /** @type {Record<string, string>} */ ({ draft: 'rp_st_draft', approved: 'rp_st_approved', published: 'rp_st_published', rejected: 'rp_st_rejected' });

/** The reports drafted for the chain of command: draft one as of the instant shown; approve, publish or reject the
 * latest version (with reports:approve, never one's own draft); each version's file, rebuilt and checked. */
async function drafted(/** @type {Record<string, string>} */ q) {
  const list = (await api('/api/v1/reports')).items;
  const status = h('div', { id: 'reports-status' });
  const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const act = async (/** @type {string} */ path, /** @type {any} */ body, /** @type {string} */ done) => {
    try {
      await api(path, { method: 'POST', body });
      toast(done);
      refresh();
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  };
  const draft = (/** @type {string} */ kind) => act('/api/v1/reports',
    { kind, ...(q.at ? { at: q.at.replace('T', ' ') } : {}), ...(q.org && kind === 'logstat' ? { org: q.org } : {}) }, t('rp_drafted'));
  const pending = list.filter((/** @type {any} */ r) => ['draft', 'approved'].includes(r.versions[r.versions.length - 1].status)).length;
  const rows = list.slice(0, 30).map((/** @type {any} */ r) => ({ r, v: r.versions[r.versions.length - 1] }));
  const review = (/** @type {any} */ x, /** @type {string} */ decision) => h('button', {
    class: decision === 'reject' ? undefined : 'primary', 'data-report': x.r.id, 'data-decision': decision,
    onclick: () => act(`/api/v1/reports/${encodeURIComponent(x.r.id)}/review`, { version: x.v.version, decision },
      t({ approve: 'rp_approved', publish: 'rp_published', reject: 'rp_rejected' }[decision] || 'rp_drafted')),
  }, t(`rp_${decision}`));
  return h('div', { class: 'panel', id: 'reports' }, h('h2', {}, t('rp_title')),
    h('p', { class: 'sentence', id: 'reports-answer' }, pending
      ? h('strong', { class: 'warn' }, tf('rp_pending', { n: pending }))
      : h('strong', {}, tf('rp_none_pending', { n: list.length }))),
    h('p', { class: 'row' },
      may('logistics:read') ? h('button', { id: 'draft-logstat', onclick: () => draft('logstat') }, t('rp_draft_logstat')) : null,
      caller()?.organization_id || caller()?.partner_id ? null : h('button', { id: 'draft-sitrep', onclick: () => draft('sitrep') }, t('rp_draft_sitrep'))),
    status,
    table([
      { label: t('rp_report'), value: (/** @type {any} */ x) => x.r.id },
      { label: 'V', num: true, value: (/** @type {any} */ x) => x.v.version },
      { label: t('rep_at'), value: (/** @type {any} */ x) => time(x.v.at) },
      { label: t('state'), value: (/** @type {any} */ x) => t(STATUS[x.v.status] || 'rp_st_draft'), cls: (/** @type {any} */ x) => (x.v.status === 'published' ? 'good' : x.v.status === 'rejected' ? 'bad' : 'warn') },
      { label: t('rp_by'), value: (/** @type {any} */ x) => [x.v.drafted_by, x.v.approved_by, x.v.published_by].filter(Boolean).map((/** @type {string} */ a) => a.split('/')[0]).join(' → ') },
      { label: t('sr_summary'), value: (/** @type {any} */ x) => x.v.summary },
      { label: t('rep_download'), value: (/** @type {any} */ x) => h('span', { class: 'row' }, ['pdf', 'xlsx'].map((f) =>
        h('a', { href: `/api/v1/reports/${encodeURIComponent(x.r.id)}/file?version=${x.v.version}&format=${f}`, download: '' }, f.toUpperCase()))) },
      { label: '', value: (/** @type {any} */ x) => (may('reports:approve')
        ? h('span', { class: 'row' }, x.v.status === 'draft' ? [review(x, 'approve'), review(x, 'reject')]
          : x.v.status === 'approved' ? [review(x, 'publish'), review(x, 'reject')] : null)
        : '') },
    ], rows, { empty: t('rp_empty') }));
}
