// The cases page (cases.read: operators, investigators, administrators, auditors): the
// site's cases, open or closed; a new case (reference, title, reason: cases); a case's
// footage, each item with its evidence lock, released with a reason (release); closing a
// case with a reason (release: it releases every lock); exporting a case to a signed package
// (export), the job's progress polled until the package can be downloaded; the site's
// exports; and the site's public key with its fingerprint, for recipients who check a package
// with sargas-verify. Footage is added from the timeline and the events page (addcase.js).
// The server checks every request; the page only leaves out what the role cannot do.
import { api, can, currentSession, ApiError } from './api.js';
import { t, fmtDateTime, fmtTime } from './i18n.js';
import { errorText, showError, utf8Length } from './auth.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const ACTIVE = new Set(['queued', 'running']);

// Server limits, in bytes (UTF-8) as the server counts them.
export const LIMITS = { reference: 64, title: 200, reason: 1023, note: 255 };

// The problem with the fields of a new case ({reference, title, reason}), or null.
export function caseProblem(c) {
    if (!c.reference || !c.title || !c.reason) return t('cs.missing');
    for (const [k, key] of [['reference', 'cs.reference'], ['title', 'cs.caseTitle'], ['reason', 'cs.reason']]) {
        if (utf8Length(c[k]) > LIMITS[k]) return t('cs.tooLong', { field: t(key) });
    }
    return null;
}

// The problem with a reason (release, close, export), or null.
export function reasonProblem(reason) {
    if (!reason) return t('cs.needReason');
    if (utf8Length(reason) > LIMITS.reason) return t('cs.tooLong', { field: t('cs.reason') });
    return null;
}

// What to tell the user about a failed call of the evidence API.
export function caseErrorText(e) {
    if (!(e instanceof ApiError)) return errorText(e);
    switch (e.code) {
        case 'exists': return t('cs.exists');
        case 'case_closed': return t('cs.isClosed');
        case 'released': return t('cs.releasedAlready');
        case 'range_too_large': return t('ac.rangeTooLong');
        case 'not_found': return t('cs.notFound', { message: e.message });
        default: return errorText(e);
    }
}

// "12.3 MB"
export function fmtBytes(n) {
    if (!(n >= 0)) return '';
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[i]}`;
}

// A range in local time: the end without its date when both lie on the same day.
export function fmtRange(startMs, endMs) {
    const same = new Date(startMs).toDateString() === new Date(endMs).toDateString();
    return `${fmtDateTime(startMs)} – ${same ? fmtTime(endMs) : fmtDateTime(endMs)}`;
}

function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
}

function cell(tr, text, cls, title) {
    const td = el('td', text, cls);
    if (title) td.title = title;
    tr.append(td);
    return td;
}

// A time cell: local time shown, UTC in the tooltip.
function timeCell(tr, iso, text) {
    const td = cell(tr, '', 'time');
    const time = el('time', text ?? fmtDateTime(Date.parse(iso)));
    time.dateTime = iso;
    td.title = `${iso} (UTC)`;
    td.append(time);
    return td;
}

// A small dialog that asks for a reason before an action (release, close). The action
// runs with the reason; its error is shown in the dialog, which stays open.
export class ReasonDialog {
    constructor() {
        this.dialog = $('reason-dialog');
        this.form = $('reason-form');
        this.input = $('reason-input');
        this.err = $('reason-error');
        this.action = null;
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
        $('reason-cancel').addEventListener('click', () => this.dialog.close());
    }

    // {title, text, ok}: visible texts; action(reason): Promise, throws to refuse.
    open({ title, text, ok, action }) {
        $('reason-title').textContent = title;
        $('reason-text').textContent = text || '';
        $('reason-ok').textContent = ok;
        $('reason-ok').disabled = false;
        this.input.value = '';
        this.action = action;
        showError(this.err, '');
        this.dialog.showModal();
        this.input.focus();
    }

    async submit() {
        const reason = this.input.value.trim();
        const bad = reasonProblem(reason);
        if (bad) return showError(this.err, bad);
        $('reason-ok').disabled = true;
        try {
            await this.action(reason);
            this.dialog.close();
        } catch (e) {
            showError(this.err, caseErrorText(e));
        } finally {
            $('reason-ok').disabled = false;
        }
    }
}

export class CasesPage {
    // onPlay(cameraId, startMs): show a case item on the video page (playback).
    constructor({ onPlay }) {
        this.onPlay = onPlay;
        this.cases = [];            // every case of the site the user may see (state=all)
        this.selected = null;       // case id
        this.detail = null;         // GET /cases/{id}
        this.exports = new Map();   // id -> Export (export permission only)
        this.site = null;           // GET /site
        this.shown = false;         // the page is on screen
        this.pollTimer = null;
        this.generation = 0;
        this.loadError = null;      // the last failure to load the list, or null
        this.exportsError = null;
        this.reasonDialog = new ReasonDialog();
        this.tbody = $('cases-table').querySelector('tbody');
        this.status = $('cases-status');
        $('cases-state').addEventListener('change', () => this.renderList());
        $('case-new').addEventListener('submit', (e) => { e.preventDefault(); this.create(); });
        $('export-form').addEventListener('submit', (e) => { e.preventDefault(); this.startExport(); });
        $('case-close').addEventListener('click', () => this.close());
        const pick = async (tr) => {
            await this.select(Number(tr.dataset.case));
            if (!$('case-detail').hidden) $('case-detail').scrollIntoView({ block: 'nearest' });
        };
        this.tbody.addEventListener('click', (e) => {
            const tr = e.target.closest('tr[data-case]');
            if (tr) pick(tr);
        });
        this.tbody.addEventListener('keydown', (e) => {
            const tr = e.target.closest('tr[data-case]');
            if (tr && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); pick(tr); }
        });
        $('case-items').querySelector('tbody').addEventListener('click', (e) => this.itemAction(e));
    }

    // The page came on screen.
    async show() {
        this.shown = true;
        this.loadSite();
        await Promise.all([this.load(), this.loadExports()]);
        if (this.selected != null) await this.select(this.selected);
    }

    // The page left the screen: exports still running keep being polled (their state shows
    // when the page comes back), nothing else.
    hide() { this.shown = false; }

    // Signed out: no more polling.
    stop() {
        this.shown = false;
        clearTimeout(this.pollTimer);
        this.pollTimer = null;
        this.exports.clear();
    }

    rerender() {
        this.renderList();
        if (this.detail) this.renderDetail();
        this.renderExports();
        this.renderSite();
    }

    say(text, kind = '') {
        this.status.textContent = text;
        this.status.className = 'status' + (kind ? ' ' + kind : '');
    }

    // ---- the list ----
    async load() {
        const gen = ++this.generation;
        $('cases-table').dataset.state = 'loading';
        try {
            const list = await api.cases('all');
            if (gen !== this.generation) return;
            this.cases = list;
            this.loadError = null;
            $('cases-table').dataset.state = 'ready';
        } catch (e) {
            if (gen !== this.generation) return;
            $('cases-table').dataset.state = 'error';
            this.loadError = e;
        }
        this.renderList();
    }

    renderList() {
        const want = $('cases-state').value;
        const list = this.cases.filter((c) => want === 'all' || c.state === want)
            .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
        this.tbody.replaceChildren(...list.map((c) => {
            const tr = document.createElement('tr');
            tr.dataset.case = String(c.id);
            tr.dataset.reference = c.reference;
            tr.dataset.state = c.state;
            tr.tabIndex = 0;
            tr.setAttribute('aria-selected', String(c.id === this.selected));
            cell(tr, c.reference, 'ref');
            cell(tr, c.title);
            cell(tr, c.owner ? c.owner.name : '');
            cell(tr, t('cs.itemCount', { n: c.items, locked: c.locked_items }));
            cell(tr, t('cs.st.' + (c.state === 'open' ? 'open' : 'closed')), 'case-state ' + c.state);
            timeCell(tr, c.created);
            return tr;
        }));
        $('cases-table').dataset.cases = String(list.length);
        const note = this.loadError ? t('cs.loadError', { message: caseErrorText(this.loadError) }) : list.length ? '' : t('cs.none');
        $('cases-note').textContent = note;
        $('cases-note').hidden = !note;
    }

    async create() {
        const c = {
            reference: $('case-ref').value.trim(), title: $('case-title').value.trim(), reason: $('case-reason').value.trim(),
        };
        const err = $('case-new-error');
        const bad = caseProblem(c);
        if (bad) return showError(err, bad);
        $('case-create').disabled = true;
        let made;
        try {
            made = await api.createCase(c);
        } catch (e) {
            return showError(err, caseErrorText(e));
        } finally {
            $('case-create').disabled = false;
        }
        showError(err, '');
        $('case-new').reset();
        this.say(t('cs.createdOk', { reference: made.reference }), 'ok');
        if ($('cases-state').value === 'closed') $('cases-state').value = 'open';
        await this.load();
        this.showDetail(made);
    }

    // ---- one case ----
    async select(id) {
        this.selected = id;
        for (const tr of this.tbody.querySelectorAll('tr')) tr.setAttribute('aria-selected', String(Number(tr.dataset.case) === id));
        try {
            this.showDetail(await api.caseDetail(id));
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) {
                this.selected = null;
                this.detail = null;
                $('case-detail').hidden = true;
            }
            this.say(caseErrorText(e), 'error');
        }
    }

    showDetail(c) {
        this.detail = c;
        this.selected = c.id;
        // the list's summary of this case follows what the server just said
        const i = this.cases.findIndex((x) => x.id === c.id);
        const { item_list: _items, hidden_items: _hidden, ...summary } = c;
        if (i >= 0) this.cases[i] = summary; else this.cases.push(summary);
        this.renderList();
        this.renderDetail();
    }

    // A user's name where the page knows it (the case's owner, the signed-in user, the
    // user of an export), else "user #N".
    userName(id) {
        const c = this.detail, s = currentSession();
        if (c && c.owner && c.owner.id === id) return c.owner.name;
        if (s && s.user && s.user.id === id) return s.user.name;
        for (const j of this.exports.values()) if (j.user && j.user.id === id) return j.user.name;
        return t('cs.userNo', { id });
    }

    renderDetail() {
        const c = this.detail;
        const box = $('case-detail');
        if (!c) { box.hidden = true; return; }
        box.hidden = false;
        box.dataset.case = String(c.id);
        box.dataset.state = c.state;
        const open = c.state === 'open';
        $('case-heading').textContent = `${c.reference} · ${c.title}`;
        $('case-meta').textContent = t('cs.meta', {
            owner: c.owner ? c.owner.name : '?', created: fmtDateTime(Date.parse(c.created)),
            state: t('cs.st.' + (open ? 'open' : 'closed')),
        });
        $('case-reason-line').textContent = t('cs.reasonLine', { reason: c.reason });
        const closed = $('case-closed-line');
        closed.hidden = open;
        closed.textContent = open ? '' : t('cs.closedLine', { time: fmtDateTime(Date.parse(c.closed)), reason: c.close_reason || '' });

        const items = c.item_list || [];
        $('case-items').querySelector('tbody').replaceChildren(...items.map((it) => this.itemRow(it, open)));
        $('case-items').dataset.items = String(items.length);
        $('case-hidden').hidden = !c.hidden_items;
        $('case-hidden').textContent = c.hidden_items ? t('cs.hiddenItems', { n: c.hidden_items }) : '';
        $('case-items-hint').hidden = !open || !can('cases');
        $('case-close').hidden = !open || !can('release');
        const exportable = can('export') && items.length > 0;
        $('export-form').hidden = !exportable;
        $('export-start').disabled = !exportable;
        this.renderExports();
    }

    itemRow(it, open) {
        const tr = document.createElement('tr');
        const start = Date.parse(it.start), end = Date.parse(it.end);
        tr.dataset.item = String(it.id);
        tr.dataset.camera = String(it.camera_id);
        tr.dataset.locked = String(!!it.locked);
        tr.dataset.startMs = String(start);
        tr.dataset.endMs = String(end);
        cell(tr, it.camera || `#${it.camera_id}`, 'camera');
        timeCell(tr, it.start);
        const same = new Date(start).toDateString() === new Date(end).toDateString();
        timeCell(tr, it.end, same ? fmtTime(end) : fmtDateTime(end));
        cell(tr, it.note || '', 'note');
        const lock = it.locked
            ? cell(tr, t('cs.locked'), 'lock locked')
            : cell(tr, t('cs.released', { time: fmtDateTime(Date.parse(it.released)), user: it.released_by_name || this.userName(it.released_by) }),
                'lock released');
        if (!it.locked && it.release_reason) lock.append(el('span', it.release_reason, 'release-reason'));
        const actions = cell(tr, '', 'actions');
        if (can('playback')) {
            const b = el('button', t('cs.play'), 'play-item');
            b.type = 'button';
            b.title = t('cs.playHint');
            actions.append(b);
        }
        if (open && it.locked && can('release')) {
            const b = el('button', t('cs.release'), 'release-item');
            b.type = 'button';
            b.title = t('cs.releaseHint');
            actions.append(b);
        }
        return tr;
    }

    itemAction(e) {
        const b = e.target.closest('button');
        const tr = e.target.closest('tr[data-item]');
        if (!b || !tr || !this.detail) return;
        const it = (this.detail.item_list || []).find((x) => x.id === Number(tr.dataset.item));
        if (!it) return;
        if (b.classList.contains('play-item')) this.onPlay(it.camera_id, Date.parse(it.start));
        if (b.classList.contains('release-item')) this.release(it);
    }

    release(it) {
        const c = this.detail;
        this.reasonDialog.open({
            title: t('cs.releaseTitle'),
            text: t('cs.releaseText', { camera: it.camera || `#${it.camera_id}`, range: fmtRange(Date.parse(it.start), Date.parse(it.end)) }),
            ok: t('cs.release'),
            action: async (reason) => {
                this.showDetail(await api.releaseCaseItem(c.id, it.id, reason));
                this.say(t('cs.releasedOk'), 'ok');
            },
        });
    }

    close() {
        const c = this.detail;
        if (!c) return;
        this.reasonDialog.open({
            title: t('cs.closeTitle', { reference: c.reference }),
            text: t('cs.closeText'),
            ok: t('cs.closeOk'),
            action: async (reason) => {
                this.showDetail(await api.closeCase(c.id, reason));
                this.say(t('cs.closedOk', { reference: c.reference }), 'ok');
            },
        });
    }

    // ---- exports ----
    async startExport() {
        const c = this.detail;
        const err = $('export-error');
        if (!c) return;
        const reason = $('export-reason').value.trim();
        const bad = reasonProblem(reason);
        if (bad) return showError(err, bad);
        $('export-start').disabled = true;
        let job;
        try {
            job = await api.createExport({ case_id: c.id, reason, format: $('export-format').value });
        } catch (e) {
            return showError(err, t('ex.refused', { message: caseErrorText(e) }));
        } finally {
            $('export-start').disabled = false;
        }
        showError(err, '');
        $('export-reason').value = '';
        this.exports.set(job.id, job);
        this.say(t('ex.started', { id: job.id }), 'ok');
        this.renderExports();
        this.schedulePoll();
    }

    async loadExports() {
        if (!can('export')) return;
        try {
            const list = await api.exports();
            this.exports = new Map(list.map((j) => [j.id, { ...this.exports.get(j.id), ...j }]));
            this.exportsError = null;
        } catch (e) {
            this.exportsError = e;
        }
        this.renderExports();
        this.schedulePoll();
    }

    // Polls GET /exports/{id} of every queued or running job until none is left.
    schedulePoll() {
        if (this.pollTimer || ![...this.exports.values()].some((j) => ACTIVE.has(j.state))) return;
        this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
    }

    async poll() {
        const active = [...this.exports.values()].filter((j) => ACTIVE.has(j.state));
        await Promise.all(active.map(async (j) => {
            try {
                const now = await api.exportJob(j.id);
                if (this.pollTimer) this.exports.set(j.id, now);
            } catch (e) {
                if (e instanceof ApiError && (e.status === 404 || e.status === 403)) this.exports.delete(j.id);
            }
        }));
        if (!this.pollTimer) return;   // stopped meanwhile
        this.pollTimer = null;
        this.renderExports();
        this.schedulePoll();
    }

    renderExports() {
        const refs = new Map(this.cases.map((c) => [c.id, c.reference]));
        const all = [...this.exports.values()].sort((a, b) => b.id - a.id);
        $('exports-table').querySelector('tbody').replaceChildren(...all.map((j) => this.exportRow(j, refs, true)));
        $('exports-table').dataset.exports = String(all.length);
        const note = this.exportsError ? t('ex.loadError', { message: caseErrorText(this.exportsError) }) : all.length ? '' : t('ex.none');
        $('exports-note').textContent = note;
        $('exports-note').hidden = !note;
        const c = this.detail;
        const mine = c ? all.filter((j) => j.case_id === c.id) : [];
        $('case-exports').querySelector('tbody').replaceChildren(...mine.map((j) => this.exportRow(j, refs, false)));
        $('case-exports').dataset.exports = String(mine.length);
        $('case-exports-none').hidden = mine.length > 0;
        this.renderCommand();
    }

    // The verifier's command line with the names the files get: site-N.pub and the folder of
    // the newest finished export of this case (of the site, without a case chosen).
    renderCommand() {
        const done = [...this.exports.values()].filter((j) => j.state === 'done').sort((a, b) => b.id - a.id);
        const pick = (this.detail && done.find((j) => j.case_id === this.detail.id)) || done[0];
        const key = this.site && this.site.id != null ? `site-${this.site.id}.pub` : `site.pub`;
        $('site-key-command').textContent = `sargas-verify --key ${key} ${pick ? `export-${pick.id}` : 'export-N'}`;
    }

    exportRow(j, refs, withCase) {
        const tr = document.createElement('tr');
        tr.dataset.export = String(j.id);
        tr.dataset.state = j.state;
        tr.dataset.progress = String(j.progress ?? 0);
        cell(tr, `#${j.id}`);
        if (withCase) cell(tr, j.case_id == null ? t('ex.ranges') : refs.get(j.case_id) || `#${j.case_id}`);
        timeCell(tr, j.created);
        cell(tr, j.user ? j.user.name : '');
        cell(tr, j.format);
        const st = cell(tr, '', 'export-state ' + j.state);
        st.append(el('span', t('ex.st.' + (['queued', 'running', 'done', 'failed'].includes(j.state) ? j.state : 'unknown'))));
        if (ACTIVE.has(j.state)) {
            const p = document.createElement('progress');
            p.max = 1;
            p.value = Math.max(0, Math.min(1, Number(j.progress) || 0));
            p.setAttribute('aria-label', t('ex.progress'));
            st.append(' ', p, el('span', ` ${Math.round(p.value * 100)} %`, 'pct'));
        }
        if (j.state === 'failed') st.append(el('span', j.error || t('ex.noDetail'), 'export-error error'));
        if (withCase) cell(tr, j.reason, 'reason', j.reason);
        const pkg = cell(tr, '', 'package');
        if (j.state === 'done' && j.download) {
            const a = el('a', t('ex.download', { size: fmtBytes(j.bytes) }), 'button download');
            a.href = j.download;
            a.setAttribute('download', '');
            if (j.sha256) a.title = t('ex.sha256', { sha256: j.sha256 });
            pkg.append(a);
        }
        return tr;
    }

    // ---- the site's key ----
    async loadSite() {
        try {
            this.site = await api.site();
        } catch {
            this.site = null;
        }
        this.renderSite();
    }

    renderSite() {
        const s = this.site;
        const has = !!(s && s.fingerprint);
        $('site-fingerprint').textContent = has ? s.fingerprint : t('sk.none');
        $('site-fingerprint').title = has && s.public_key ? t('site.publicKey', { key: s.public_key }) : '';
        $('site-key-link').hidden = !has;
        $('site-key-link').href = api.siteKeyUrl();
        this.renderCommand();
    }
}
