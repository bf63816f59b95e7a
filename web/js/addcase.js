// "Add to case…" (cases permission): footage goes into an open case, or into a new one made
// on the spot. Two sources: the range marked on the timeline ("Mark in" / "Mark out"), for
// one or more of the cameras the timeline shows (one item per camera), and a motion event of
// the events page (the server takes its camera and its span with some seconds around it).
// Every item holds an evidence lock while its case is open.
import { api } from './api.js';
import { t } from './i18n.js';
import { showError, utf8Length } from './auth.js';
import { caseProblem, caseErrorText, fmtRange, LIMITS } from './cases.js';

const $ = (id) => document.getElementById(id);
const NEW = 'new';
const iso = (ms) => new Date(ms).toISOString();

export class AddToCaseDialog {
    constructor() {
        this.dialog = $('addcase-dialog');
        this.form = $('addcase-form');
        this.err = $('addcase-error');
        this.select = $('addcase-case');
        this.what = null;
        this.done = null;
        this.lastCase = null;    // the case chosen last time: offered first next time
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
        $('addcase-cancel').addEventListener('click', () => this.dialog.close());
        this.select.addEventListener('change', () => this.showNewFields());
    }

    get isOpen() { return this.dialog.open; }

    close() { if (this.dialog.open) this.dialog.close(); }

    // what: {kind: 'range', startMs, endMs, cameras: [{id, name}], selected: camera id}
    //    or {kind: 'event', event, camera: name};
    // done(caseDetail, items added): after a successful addition.
    async open(what, done) {
        this.what = what;
        this.done = done;
        showError(this.err, '');
        $('addcase-note').value = '';
        for (const id of ['addcase-ref', 'addcase-title', 'addcase-reason']) $(id).value = '';
        if (what.kind === 'range') {
            $('addcase-what').textContent = t('ac.range', { range: fmtRange(what.startMs, what.endMs),
                seconds: Math.round((what.endMs - what.startMs) / 1000) });
            $('addcase-camera-list').replaceChildren(...what.cameras.map((c) => {
                const label = document.createElement('label');
                label.className = 'check';
                const box = document.createElement('input');
                box.type = 'checkbox';
                box.name = 'addcase-camera';
                box.value = String(c.id);
                box.checked = what.cameras.length === 1 || c.id === what.selected;
                label.append(box, ' ', c.name);
                return label;
            }));
            $('addcase-cameras').hidden = false;
        } else {
            $('addcase-what').textContent = t('ac.event', { camera: what.camera,
                range: fmtRange(Date.parse(what.event.start), Date.parse(what.event.end || what.event.start)) });
            $('addcase-cameras').hidden = true;
        }
        this.select.replaceChildren(new Option(t('ac.loading'), ''));
        this.select.disabled = true;
        $('addcase-save').disabled = true;
        $('addcase-new').hidden = true;
        this.dialog.showModal();
        await this.loadCases();
    }

    async loadCases(chosen) {
        let cases = [];
        try {
            cases = await api.cases('open');
        } catch (e) {
            showError(this.err, t('cs.loadError', { message: caseErrorText(e) }));
        }
        cases.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
        const opts = cases.map((c) => new Option(`${c.reference} · ${c.title}`, String(c.id)));
        this.select.replaceChildren(...opts, new Option(t('ac.newCase'), NEW));
        const want = chosen ?? this.lastCase;
        this.select.value = cases.some((c) => c.id === want) ? String(want) : cases.length ? String(cases[0].id) : NEW;
        this.select.disabled = false;
        $('addcase-save').disabled = false;
        this.showNewFields();
    }

    showNewFields() {
        const isNew = this.select.value === NEW;
        $('addcase-new').hidden = !isNew;
        if (isNew && this.dialog.open && document.activeElement === this.select) $('addcase-ref').focus();
    }

    // The items to add, or a problem (string).
    items(note) {
        const w = this.what;
        const extra = note ? { note } : {};
        if (w.kind === 'event') return [{ event_id: w.event.id, ...extra }];
        const ids = [...this.form.querySelectorAll('input[name="addcase-camera"]:checked')].map((b) => Number(b.value));
        if (!ids.length) return t('ac.needCamera');
        return ids.map((id) => ({ camera_id: id, start: iso(w.startMs), end: iso(w.endMs), ...extra }));
    }

    async submit() {
        const note = $('addcase-note').value.trim();
        if (utf8Length(note) > LIMITS.note) return showError(this.err, t('cs.tooLong', { field: t('cs.note') }));
        const items = this.items(note);
        if (typeof items === 'string') return showError(this.err, items);
        let caseId = this.select.value;
        const fresh = caseId === NEW && {
            reference: $('addcase-ref').value.trim(), title: $('addcase-title').value.trim(), reason: $('addcase-reason').value.trim(),
        };
        if (fresh) {
            const bad = caseProblem(fresh);
            if (bad) return showError(this.err, bad);
        } else if (!caseId) {
            return showError(this.err, t('ac.needCase'));
        }
        $('addcase-save').disabled = true;
        try {
            if (fresh) {
                caseId = (await api.createCase(fresh)).id;
                // from here on the case exists: a retry adds to it rather than making another
                await this.loadCases(caseId);
            }
            caseId = Number(caseId);
            this.lastCase = caseId;
            let detail = null, added = 0;
            for (const it of items) {
                try {
                    detail = await api.addCaseItem(caseId, it);
                    added++;
                } catch (e) {
                    // what was added is added: a second try must not add it again
                    for (const done of items.slice(0, added)) {
                        const box = this.form.querySelector(`input[name="addcase-camera"][value="${done.camera_id}"]`);
                        if (box) box.checked = false;
                    }
                    const failed = items.length - added;
                    showError(this.err, added ? t('ac.partly', { added, failed, message: caseErrorText(e) }) : caseErrorText(e));
                    if (detail && this.done) this.done(detail, added);
                    return;
                }
            }
            this.dialog.close();
            if (this.done) this.done(detail, added);
        } catch (e) {
            showError(this.err, caseErrorText(e));
        } finally {
            $('addcase-save').disabled = false;
        }
    }
}
