// Préparation: venue readiness before the Games. The answer first (how many sites will be ready in time, what
// blocks, where), then the root causes with what each holds up, then every site worst first; a site opens on its
// timeline (a Gantt of its tasks, the critical path marked, each held-up task naming its root cause, the delivery
// plan a task waits for), where an owner moves its tasks (a move past unfinished predecessors is refused, naming
// them, unless forced: the override is journalled).
import { api, may, caller, h, table, pill, errorBox, toast } from '../api.js';
import { t, tf, time, stateLabel } from '../i18n.js';

/** Sets inline geometry through the CSSOM (the content security policy refuses `style` attributes).
 * @param {HTMLElement | SVGElement} el @param {Record<string, string>} props */
function styled(el, props) {
  for (const [k, v] of Object.entries(props)) el.style.setProperty(k, v);
  return el;
}

/** @param {number} p */
const percent = (p) => `${String(Math.round(p * 10) / 10).replace('.', ',')} %`;

/** @param {any} r */
function siteRank(r) {
  return (r.late ? 0 : 1) * 1e6 + (r.blocked ? 0 : 1) * 1e5 + r.percent;
}

/** @param {HTMLElement} view @param {URLSearchParams} params */
export async function show(view, params) {
  const site = params?.get('site');
  if (site) return showSite(view, site, params?.get('zone'));
  const partner = caller()?.partner_id;
  const owner = partner || params?.get('owner') || '';
  const [sum, blockers, nc, owners, mine, trades] = await Promise.all([
    api('/api/v1/readiness?by=site'),
    api('/api/v1/readiness/blockers'),
    api('/api/v1/readiness/computers/noncompliant'),
    api('/api/v1/readiness?by=owner'),
    owner ? api(`/api/v1/readiness/tasks?owner=${encodeURIComponent(owner)}`) : null,
    api('/api/v1/readiness?by=trade'),
  ]);
  const sites = sum.items.slice().sort((/** @type {any} */ a, /** @type {any} */ b) => siteRank(a) - siteRank(b));
  const late = sites.filter((/** @type {any} */ s) => s.late).length;
  const ready = sites.filter((/** @type {any} */ s) => s.percent >= 100).length;
  const held = blockers.items.reduce((/** @type {number} */ n, /** @type {any} */ b) => n + b.blocks.length, 0);
  view.replaceChildren(
    h('div', { class: 'panel' },
      h('h2', {}, t('preparation')),
      h('p', { class: 'sentence', id: 'readiness-answer' },
        h('strong', {}, tf('rd_answer', { ontime: sites.length - late, total: sites.length })), ' ',
        late ? h('span', { class: 'bad' }, tf('rd_late', { n: late })) : h('span', { class: 'good' }, t('rd_none_late')), ' ',
        tf('rd_ready', { n: ready }), ' ',
        blockers.items.length
          ? h('span', { class: 'warn' }, tf('rd_blocked', { n: blockers.items.length, held }))
          : t('rd_none_blocked')),
      h('p', { class: 'small no-print' }, h('a', { href: '#/situation?mode=preparation', id: 'readiness-map' }, t('rd_on_map')), ' · ',
        h('a', { href: '#/mur?mode=preparation', id: 'readiness-wall' }, t('rd_on_wall')))),
    myTasks(view, owner, partner, partner ? null : owners, mine),
    h('div', { class: 'panel', id: 'blockers' },
      h('h3', {}, `${t('rd_blockers')} (${blockers.items.length})`),
      blockers.items.length ? h('ol', {}, blockers.items.map((/** @type {any} */ b) => h('li', {},
        h('a', { href: `#/preparation?site=${encodeURIComponent(b.task.site_id)}` }, `${b.task.site_id} · ${b.task.name}`),
        ` — ${b.task.reason || t('rd_no_reason')} `,
        h('span', { class: 'muted' }, tf('rd_holds', { n: b.blocks.length, owner: b.task.owner }))))) : h('p', { class: 'good' }, t('none')),
      blockers.late_deliveries.length ? [
        h('h3', { id: 'late-deliveries' }, `${t('rd_late_deliveries')} (${blockers.late_deliveries.length})`),
        h('ol', {}, blockers.late_deliveries.map((/** @type {any} */ d) => h('li', {},
          h('a', { href: `#/preparation?site=${encodeURIComponent(d.task.site_id)}` }, `${d.task.site_id} · ${d.task.name}`),
          d.task.plan ? planLine(d.task.plan) : null, ' ',
          h('span', { class: 'muted' }, tf('rd_delays', { n: d.blocks.length })))))] : null),
    h('div', { class: 'panel', id: 'sites' },
      h('h3', {}, `${t('rd_sites')} (${sites.length})`),
      table([
        { label: t('site'), value: (/** @type {any} */ r) => h('a', { href: `#/preparation?site=${encodeURIComponent(r.key)}` }, r.key) },
        { label: t('rd_done'), num: true, value: (/** @type {any} */ r) => bar(r.percent) },
        { label: t('rd_ready_at'), value: (/** @type {any} */ r) => (r.ready ? time(r.ready) : '—') },
        { label: t('rd_deadline'), value: (/** @type {any} */ r) => (r.deadline ? time(r.deadline) : '—') },
        { label: t('state'), value: (/** @type {any} */ r) => {
          const word = `R_${String(r.state).toUpperCase()}`;
          const why = r.blocked ? tf('rd_n_blocked', { n: r.blocked }) : r.late_tasks ? tf('rd_n_late', { n: r.late_tasks }) : '';
          return [pill(word, stateLabel(word)), why ? h('span', { class: 'small muted' }, ` ${why}`) : null];
        } },
      ], sites, { onRow: (r) => { location.hash = `#/preparation?site=${encodeURIComponent(r.key)}`; }, empty: t('no_data') })),
    h('div', { class: 'grid2 rd-rollups' },
      rollupTable('rd_by_trade', 'by-trade', trades.items, (/** @type {string} */ k) => t(`rd_trade_${k}`)),
      rollupTable('rd_by_owner', 'by-owner', owners.items, (/** @type {string} */ k) => k)),
    h('div', { class: 'panel', id: 'images' },
      h('h3', {}, `${t('rd_images')} (${nc.total})`),
      nc.total ? h('p', { class: 'warn' }, tf('rd_images_bad', { n: nc.total })) : h('p', { class: 'good' }, t('rd_images_ok')),
      nc.total ? table([
        { label: t('rd_computer'), value: (/** @type {any} */ c) => c.computer },
        { label: t('site'), value: (/** @type {any} */ c) => c.site_id },
        { label: t('rd_zone'), value: (/** @type {any} */ c) => c.zone_id },
        { label: t('rd_runs'), value: (/** @type {any} */ c) => c.runs },
        { label: t('rd_required'), value: (/** @type {any} */ c) => c.required },
      ], nc.items.slice(0, 50)) : null),
  );
  return {};
}

/** Rows of "my tasks" shown (the soonest; the rest are counted, and each site's timeline has them all). */
const MY_ROWS = 60;

/** "My tasks today": a partner's own (or, for the TOC, one owner's, chosen), unfinished and able to start by
 * tonight, soonest first, each with its buttons. @param {HTMLElement} view @param {string} owner
 * @param {string | undefined} partner @param {any} owners @param {any} mine */
function myTasks(view, owner, partner, owners, mine) {
  const pick = partner ? null : h('label', { class: 'no-print' }, t('rd_owner'), ' ',
    h('select', { id: 'owner', onchange: (/** @type {Event} */ e) => {
      const v = /** @type {HTMLSelectElement} */ (e.target).value;
      location.hash = v ? `#/preparation?owner=${encodeURIComponent(v)}` : '#/preparation';
    } }, h('option', { value: '' }, '—'), (owners?.items || []).map((/** @type {any} */ o) =>
      h('option', { value: o.key, selected: o.key === owner }, `${o.key} (${o.tasks - o.tasks_done})`))));
  const msg = h('div', { id: 'my-move-result' });
  const items = mine?.items || [];
  return h('div', { class: 'panel', id: 'my-tasks' },
    h('h3', {}, partner ? tf('rd_my_tasks', { n: items.length }) : t('rd_owner_tasks')), pick,
    owner ? (items.length ? table([
      { label: t('site'), value: (/** @type {any} */ k) => h('a', { href: `#/preparation?site=${encodeURIComponent(k.site_id)}&zone=${encodeURIComponent(k.zone_id)}` }, `${k.site_id} · ${k.zone_id}`) },
      { label: t('rd_task'), value: (/** @type {any} */ k) => k.name },
      { label: t('rd_start'), value: (/** @type {any} */ k) => time(k.start) },
      { label: t('state'), value: (/** @type {any} */ k) => [t(`rd_st_${k.status}`),
        k.blocked_by && k.blocked_by !== k.id ? h('span', { class: 'warn small' }, ` ⟵ ${k.blocked_by}`) : null,
        k.late ? h('span', { class: 'bad small' }, ` ${t('rd_is_late')}`) : null] },
      { label: '', value: (/** @type {any} */ k) => actions(k, msg, () => show(view, new URLSearchParams(owner && !partner ? { owner } : {}))) },
    ], items.slice(0, MY_ROWS)) : h('p', { class: 'good' }, t('rd_nothing_today'))) : null,
    items.length > MY_ROWS ? h('p', { class: 'muted small' }, tf('and_more', { n: items.length - MY_ROWS })) : null, msg);
}

/** Readiness per trade or owner: share done, tasks, what is blocked; least done first.
 * @param {string} title @param {string} id @param {any[]} items @param {(k: string) => string} label */
function rollupTable(title, id, items, label) {
  return h('div', { class: 'panel', id },
    h('h3', {}, t(title)),
    table([
      { label: t(title === 'rd_by_trade' ? 'rd_trade' : 'rd_owner'), value: (/** @type {any} */ r) => label(r.key) },
      { label: t('rd_done'), num: true, value: (/** @type {any} */ r) => bar(r.percent) },
      { label: t('rd_tasks_done'), num: true, value: (/** @type {any} */ r) => `${r.tasks_done} / ${r.tasks}` },
      { label: t('state'), value: (/** @type {any} */ r) => (r.blocked ? h('span', { class: 'warn' }, tf('rd_n_blocked', { n: r.blocked }))
        : r.late_tasks ? h('span', { class: 'bad' }, tf('rd_n_late', { n: r.late_tasks })) : '—') },
    ], items.slice().sort((/** @type {any} */ a, /** @type {any} */ b) => a.percent - b.percent), { empty: t('no_data') }));
}

/** @param {number} p */
function bar(p) {
  return h('span', { class: 'rd-bar', title: percent(p) },
    h('span', { class: 'rd-track' }, styled(h('span', { class: 'rd-fill' }), { width: `${Math.max(0, Math.min(100, p))}%` })), percent(p));
}

/** A site's page; with `zone`, that zone's timeline alone, to print for its venue manager.
 * @param {HTMLElement} view @param {string} site @param {string | null} [zone] */
async function showSite(view, site, zone) {
  const [data, pcs] = await Promise.all([
    api(`/api/v1/readiness/sites/${encodeURIComponent(site)}`),
    api(`/api/v1/readiness/computers?site=${encodeURIComponent(site)}`),
  ]);
  const states = ['failing', 'in_depot', 'delivered', 'installed', 'imaged', 'tested', 'in_service'];
  const pcLine = h('p', { id: 'computers', class: pcs.counts.failing ? 'warn' : undefined },
    tf('rd_pcs', { n: pcs.total }), ' ',
    states.filter((k) => pcs.counts[k]).map((k) => `${pcs.counts[k]} ${t(`rd_pc_${k}`)}`).join(' · '));
  const pic = data.picture;
  const z = zone ? pic.zones.find((/** @type {any} */ r) => r.key === zone) : null;
  const tasks = z ? pic.tasks.filter((/** @type {any} */ x) => x.zone_id === z.key) : pic.tasks;
  const critical = new Set(pic.critical_path);
  const byId = new Map(tasks.map((/** @type {any} */ x) => [x.id, x]));
  const roots = [...new Set(tasks.map((/** @type {any} */ x) => x.blocked_by).filter(Boolean))].map((id) => byId.get(id)).filter(Boolean);
  const s = z || pic.site;
  const siteHref = `#/preparation?site=${encodeURIComponent(site)}`;
  const zoneNav = h('nav', { class: 'tabs no-print', id: 'zones', 'aria-label': t('rd_zone') },
    h('a', { class: `button${z ? '' : ' primary'}`, href: siteHref }, t('rd_all_zones')),
    pic.zones.map((/** @type {any} */ r) => h('a', { class: `button${z?.key === r.key ? ' primary' : ''}`,
      href: `${siteHref}&zone=${encodeURIComponent(r.key)}` }, `${r.name || r.key} · ${percent(r.percent)}`)),
    h('button', { type: 'button', onclick: () => window.print() }, t('print')));
  // The time axis runs from the first task's start to the last one's finish; now and the deadline are marked
  // when they fall on it.
  const from = Math.min(...tasks.map((/** @type {any} */ x) => Date.parse(x.start)));
  const to = Math.max(...tasks.map((/** @type {any} */ x) => Date.parse(x.finish)));
  const span = Math.max(1, to - from);
  const x = (/** @type {string} */ iso) => ((Date.parse(iso) - from) / span) * 100;
  const marks = () => [
    [data.at, 'gantt-now'], [s.deadline, 'gantt-deadline'],
  ].filter(([at]) => at && x(at) >= 0 && x(at) <= 100).map(([at, cls]) => styled(h('span', { class: cls }), { left: `${x(at)}%` }));
  const msg = h('div', { id: 'move-result' });
  view.replaceChildren(
    h('p', { class: 'no-print small' }, h('a', { href: '#/preparation' }, `← ${t('rd_all_sites')}`)),
    h('div', { class: 'panel' },
      h('h2', {}, `${data.name || site} (${site})${z ? ` — ${z.name || z.key}` : ''}`),
      h('p', { class: 'print-only small' }, tf('rd_printed', { at: time(data.at) })),
      h('p', { class: 'sentence', id: 'site-answer' },
        h('strong', {}, s.ready ? tf('rd_site_ready', { at: time(s.ready) }) : t('rd_site_done')), ' ',
        s.deadline ? (s.late ? h('span', { class: 'bad' }, tf('rd_site_late', { deadline: time(s.deadline) }))
          : h('span', { class: 'good' }, tf('rd_site_on_time', { deadline: time(s.deadline) }))) : null, ' ',
        tf('rd_site_done_share', { pct: percent(s.percent), done: s.tasks_done, n: s.tasks }), ' ',
        roots.length ? h('span', { class: 'warn' }, tf('rd_site_roots', { n: roots.length, names: roots.map((r) => r.name).join(', ') })) : null),
      roots.map((r) => h('p', { class: 'rd-root', id: `root-${cssId(r.id)}` },
        h('strong', {}, `${t('rd_root')} : ${r.name}`), ` (${r.owner}) — ${r.reason || t('rd_no_reason')}`,
        r.plan ? planLine(r.plan) : null)), pcLine, zoneNav),
    h('div', { class: 'panel', id: 'timeline' },
      h('h3', {}, t('rd_timeline')),
      h('p', { class: 'small muted' }, t('rd_timeline_legend')),
      h('div', { class: 'gantt', role: 'list' }, tasks.map((/** @type {any} */ k) => h('div', {
        class: `gantt-row${critical.has(k.id) ? ' critical' : ''}`, role: 'listitem', id: `task-${cssId(k.id)}` },
        h('span', { class: 'gantt-label', title: k.after.length ? tf('rd_after', { names: k.after.map((/** @type {string} */ a) => byId.get(a)?.name || a).join(', ') }) : '' },
          k.name, h('span', { class: 'muted small' }, ` · ${k.owner} · ${k.zone_id}`)),
        h('span', { class: 'gantt-track' }, marks(),
          styled(h('span', { class: `gantt-bar st-${k.status}${k.blocked_by && k.status !== 'blocked' ? ' held' : ''}`,
            title: `${time(k.start)} → ${time(k.finish)}` }), { left: `${x(k.start)}%`, width: `${Math.max(0.6, x(k.finish) - x(k.start))}%` })),
        h('span', { class: 'gantt-state', title: [k.moved_by ? tf('rd_moved_by', { by: k.moved_by, at: time(k.moved_at) }) : '',
          k.evidence ? tf('rd_evidence', { what: k.evidence }) : '', k.reason].filter(Boolean).join(' — ') }, t(`rd_st_${k.status}`),
          k.evidence ? h('span', { class: 'small muted' }, ' ✓') : null,
          k.blocked_by && k.blocked_by !== k.id
            ? h('a', { class: 'small', href: siteHref, onclick: (/** @type {Event} */ e) => {
              e.preventDefault(); document.getElementById(`task-${cssId(k.blocked_by)}`)?.scrollIntoView({ block: 'center' });
            } }, ` ⟵ ${byId.get(k.blocked_by)?.name || k.blocked_by}`) : null,
          k.delayed_by && k.delayed_by !== k.id && !k.blocked_by
            ? h('span', { class: 'bad small' }, ` ⟵ ${tf('rd_delayed', { name: byId.get(k.delayed_by)?.name || k.delayed_by })}`) : null,
          k.late ? h('span', { class: 'bad small' }, ` ${t('rd_is_late')}`) : null,
          actions(k, msg, () => showSite(view, site, zone)))))),
      msg),
  );
  return {};
}

/** @param {string} id */
const cssId = (id) => id.replace(/[^A-Za-z0-9_-]/g, '_');

/** The delivery plan a task waits for, and where it stands. @param {any} plan */
function planLine(plan) {
  const label = tf('rd_plan', { id: plan.id });
  return h('span', { class: 'rd-plan', id: 'waiting-plan' }, ' · ',
    may('logistics:read') ? h('a', { href: '#/logistique?tab=plans' }, label) : h('strong', {}, label),
    ` : ${t(`plan_${plan.status}`)}`, plan.shipped_at ? ` (${tf('rd_shipped', { at: time(plan.shipped_at) })})` : '',
    plan.expected_at ? h('span', { class: plan.overdue ? 'bad' : undefined },
      ` · ${tf(plan.overdue ? 'rd_overdue' : 'rd_expected', { at: time(plan.expected_at) })}`) : '',
    plan.from ? ` · ${tf('rd_plan_route', { from: plan.from, to: plan.to })}` : '');
}

/** Buttons to move a task, for whom may (an owner its own tasks; the server decides); `redraw` after a move.
 * @param {any} k @param {HTMLElement} msg @param {() => Promise<any>} redraw */
function actions(k, msg, redraw) {
  // A partner moves its own tasks only: no buttons on the others it sees (the server refuses them anyway).
  const partner = caller()?.partner_id;
  if (!may('readiness:write') || (partner && k.owner !== partner)) return null;
  const next = { todo: ['in_progress', 'done'], in_progress: ['done', 'blocked'], blocked: ['in_progress', 'done'], done: ['verified'], verified: [] }[/** @type {'todo'} */ (k.status)] || [];
  /** @param {string} status @param {boolean} overriding */
  const move = async (status, overriding) => {
    let reason = '';
    let evidence = '';
    if (status === 'blocked') {
      reason = prompt(t('rd_why_blocked')) || '';
      if (!reason) return;
    }
    if (status === 'verified') {
      evidence = prompt(t('rd_what_proves'), k.evidence || '') || '';
      if (!evidence) return;
    }
    try {
      await api(`/api/v1/readiness/tasks/${encodeURIComponent(k.id)}/progress`, { method: 'POST', body: { status, reason, evidence, override: overriding } });
      toast(tf('rd_moved', { name: k.name, status: t(`rd_st_${status}`) }));
      await redraw();
    } catch (/** @type {any} */ e) {
      const force = e?.body?.code === 'conflict.predecessors' && may('readiness:write')
        ? h('button', { type: 'button', onclick: () => move(status, true) }, t('rd_force')) : null;
      msg.replaceChildren(h('div', {}, errorBox(e), force));
      msg.scrollIntoView({ block: 'center' });
    }
  };
  return h('span', { class: 'gantt-actions no-print', 'data-task': k.id }, next.map((s) =>
    h('button', { type: 'button', class: 'small', onclick: () => move(s, false) }, t(`rd_do_${s}`))));
}
