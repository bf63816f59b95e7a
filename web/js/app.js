// The operators' console: signs the user in (auth.js), then wires the camera list, the grid,
// the timeline and the master clock together, keeps the layout in localStorage (per user),
// and handles the keyboard. What is shown follows the session's permissions: video needs
// 'live', the timeline and its controls 'playback', the download 'export'; the users page
// 'users.read', the audit page 'audit.read'; the cases page 'cases.read', marking a range and
// adding footage to a case 'cases', releasing locks 'release', exporting 'export'. The server
// checks every request all the same.
import { api, can, currentSession, setSession, onSignedOut } from './api.js';
import { t, setLang, getLang, applyDom, fmtDateTime, fmtTime } from './i18n.js';
import { Grid, MAX_TILES } from './grid.js';
import { CameraList, CameraRegister } from './cameras.js';
import { LoginPage, PasswordDialog, renderAccount } from './auth.js';
import { UsersPage } from './users.js';
import { AuditPage } from './audit.js';
import { Timeline, ZOOMS, trackProviders, addTrackProvider } from './timeline.js';
import { MasterClock, syncStep } from './sync.js';
import { PlaybackPlayer } from './playback.js';
import { EventsPage, activityTrack } from './events.js';
import { ZoneEditor } from './zones.js';
import { CasesPage, fmtRange } from './cases.js';
import { AddToCaseDialog } from './addcase.js';

const LAYOUTS = [1, 4, 9, 16];
const STORE_KEY = 'sargas.console';   // + '.' + user name
const POLL_MS = 5000;
const PAGES = {
    video: 'live', cameras: 'cameras.read', events: 'playback', cases: 'cases.read', users: 'users.read', audit: 'audit.read',
};
const EVENT_PRE_MS = 5000;   // an event opens this long before its start

const $ = (id) => document.getElementById(id);

// ---- state ------------------------------------------------------------------------------
const state = {
    layout: 4,
    tiles: Array(MAX_TILES).fill(null),   // camera id or null, MAX_TILES entries (kept across layouts)
    page: 'video',             // a key of PAGES
    enlarged: null,            // tile index shown over the whole grid, or null
    selected: 0,               // tile last clicked or focused
    mode: 'live',              // 'live' | 'playback' (all tiles together)
    cameras: new Map(),        // id -> Camera from the API
    camerasLoaded: false,
};
const clock = new MasterClock();

const storeKey = () => `${STORE_KEY}.${currentSession() ? currentSession().user.name : ''}`;

function loadSaved() {
    const fallback = { layout: 4, tiles: Array(MAX_TILES).fill(null) };
    try {
        const s = JSON.parse(localStorage.getItem(storeKey()));
        if (!s || !LAYOUTS.includes(s.layout) || !Array.isArray(s.tiles)) return fallback;
        const tiles = Array.from({ length: MAX_TILES }, (_, i) => (Number.isInteger(s.tiles[i]) ? s.tiles[i] : null));
        return { layout: s.layout, tiles };
    } catch {
        return fallback;
    }
}

function persist() {
    localStorage.setItem(storeKey(), JSON.stringify({ layout: state.layout, tiles: state.tiles }));
}

// ---- grid ---------------------------------------------------------------------------------
const grid = new Grid($('grid'), {
    onDropCamera: (i, id) => assign(i, id),
    onEnlarge: (i) => enlarge(state.enlarged === i ? null : i),
    onRemove: (i) => assign(i, null),
    onSelect: (i) => { state.selected = i; },
});

function streamFor(cam, index) {
    const big = state.enlarged === index || state.layout === 1;
    if (!cam) return 'sub';
    if (state.mode === 'live') return big || !cam.sub_url ? 'main' : 'sub';
    return big || !cam.record_sub || !cam.sub_url ? 'main' : 'sub';
}

// Players run only on the video page, for a user with 'live', for cameras of the list (a
// saved tile whose camera the user may no longer see stays empty).
function wants() {
    const playing = state.page === 'video' && can('live') && !stopped;
    return state.tiles.map((id, i) => {
        const visible = playing && (state.enlarged == null ? i < state.layout : i === state.enlarged);
        const camera = id == null ? null : state.cameras.get(id) || null;
        // Until the camera list is in, do not guess streams: wait with the players.
        const cameraId = state.camerasLoaded && camera ? id : null;
        return { visible, camera, cameraId, stream: streamFor(camera, i), mode: state.mode };
    });
}

function refresh() {
    grid.reconcile(wants(), {
        layout: state.layout, enlarged: state.enlarged, masterUtc: clock.now(), playing: clock.playing,
    });
    for (const n of LAYOUTS) $('layout-' + n).setAttribute('aria-pressed', String(n === state.layout));
    document.body.dataset.mode = state.mode;
    updateRows();
    renderPosition();
}

function assign(index, id) {
    state.tiles[index] = id;
    persist();
    refresh();
}

function pickCamera(id) {
    const limit = state.enlarged == null ? state.layout : 0;
    let i = state.tiles.findIndex((c, k) => c == null && k < limit);
    if (i < 0) i = state.enlarged ?? state.selected ?? 0;
    assign(i, id);
}

function setLayout(n) {
    if (!LAYOUTS.includes(n)) return;
    state.layout = n;
    state.enlarged = null;
    persist();
    refresh();
}

function enlarge(index) {
    if (index != null && state.tiles[index] == null) return;
    if (index == null && document.fullscreenElement) document.exitFullscreen().catch(() => {});
    state.enlarged = index;
    refresh();
    const tile = grid.tiles[index ?? state.selected];
    if (tile && !tile.node.hidden) tile.node.focus({ preventScroll: true });
}

// ---- live / playback ----------------------------------------------------------------------
function goLive() {
    state.mode = 'live';
    clock.clear();
    refresh();
}

function seek(utcMs, { play = true } = {}) {
    if (!can('playback')) return;
    utcMs = Math.min(utcMs, Date.now());
    clock.set(utcMs);
    if (play) clock.play(); else clock.pause();
    timeline.playheadMs = utcMs;
    if (state.mode !== 'playback') {
        state.mode = 'playback';
        refresh();       // new PlaybackPlayers load from the master position
    } else {
        for (const p of grid.playbackPlayers()) {
            p.seekUtc(utcMs);
            if (play) p.play(); else p.pause();
        }
        renderPosition();
    }
    timeline.follow(utcMs, false);
    syncDatetimeInput(utcMs);
}

function step(ms) {
    if (!can('playback')) return;
    const base = state.mode === 'playback' ? clock.now() : Date.now();
    seek(base + ms, { play: state.mode === 'playback' ? clock.playing : true });
}

function togglePlay() {
    if (state.mode !== 'playback') return;
    if (clock.playing) clock.pause(); else clock.play();
    for (const p of grid.playbackPlayers()) { if (clock.playing) p.play(); else p.pause(); }
    renderPosition();
}

function renderPosition() {
    const pos = $('position');
    const pp = $('play-pause');
    if (state.mode === 'live') {
        pos.textContent = `${t('pos.live')} · ${fmtTime(Date.now())}`;
        pp.disabled = true;
    } else {
        const m = clock.now();
        pos.textContent = (m == null ? '' : fmtDateTime(m)) + (clock.playing ? '' : ` · ${t('pos.paused')}`);
        pp.disabled = false;
    }
    const key = state.mode === 'playback' && clock.playing ? 'ctl.pause' : 'ctl.play';
    pp.textContent = state.mode === 'playback' && clock.playing ? '❚❚' : '▶';
    pp.setAttribute('aria-label', t(key));
    pp.title = t(key);
    pos.dataset.utcMs = state.mode === 'playback' && clock.now() != null ? String(Math.round(clock.now())) : '';
}

// The datetime-local input holds local wall time ("YYYY-MM-DDTHH:MM:SS").
function syncDatetimeInput(utcMs) {
    const input = $('datetime');
    if (document.activeElement === input) return;
    const d = new Date(utcMs);
    const p = (n) => String(n).padStart(2, '0');
    input.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function gotoInputTime() {
    const v = $('datetime').value;
    if (!v) return;
    const ms = new Date(v).getTime();   // no offset in the string: local time
    if (!Number.isNaN(ms)) seek(ms);
}

// ---- timeline -----------------------------------------------------------------------------
const timeline = new Timeline($('timeline'), {
    onSeek: (ms) => seek(ms),
    onScrub: (ms) => { $('position').textContent = fmtDateTime(ms); },
    onWindow: () => { renderZoom(); scheduleTracks(); },
});

// Rows of the timeline come from the track providers (timeline.js): recordings and gaps
// first; motion and events will register theirs with addTrackProvider().
const trackCache = new Map();   // camera id -> {fromMs, toMs, at, layers}
let trackTimer = null;
let trackAbort = null;

addTrackProvider(async (cam, fromMs, toMs, signal) => {
    if (!can('playback')) return [];
    const r = await api.recordings(cam.id, fromMs, toMs, 'main', signal);
    const conv = (x) => ({ startMs: Date.parse(x.start), endMs: Date.parse(x.end), title: x.reason || undefined });
    return [
        { kind: 'recording', items: (r.spans || []).map(conv) },
        { kind: 'gap', items: (r.gaps || []).map(conv) },
    ];
});
// The motion heat strip under the recordings (events.js).
addTrackProvider((cam, fromMs, toMs, signal) => (can('playback') ? activityTrack(cam, fromMs, toMs, signal) : []));

function rowCameras() {
    const ids = state.enlarged != null ? [state.tiles[state.enlarged]] : state.tiles.slice(0, state.layout);
    const seen = new Set();
    return ids.filter((id) => id != null && !seen.has(id) && seen.add(id)).map((id) => state.cameras.get(id)).filter(Boolean);
}

function updateRows() {
    timeline.setRows(rowCameras().map((cam) => ({
        id: cam.id, label: cam.name, layers: (trackCache.get(cam.id) || {}).layers || [],
    })));
    renderMarks();
}

function scheduleTracks() {
    clearTimeout(trackTimer);
    trackTimer = setTimeout(loadTracks, 150);
}

// Fetches the tracks of the shown cameras for the visible window with a margin on each
// side; a cached answer is reused while it covers the window and is fresh. A load still
// under way that will cover the window is left to finish: live, the window moves with every
// tick, and aborting it each time would keep a slow server from ever answering.
let trackLoad = null;   // {ctl, ids, fromMs, toMs} of the load under way

async function loadTracks() {
    if (!can('playback') || state.page !== 'video') return;
    const cams = rowCameras();
    const span = timeline.span;
    const from = timeline.fromMs, to = timeline.toMs;
    const stale = (c) => !c || c.fromMs > from || c.toMs < Math.min(to, Date.now()) || Date.now() - c.at > 9000;
    const todo = cams.filter((c) => stale(trackCache.get(c.id)));
    if (!todo.length) return;
    const busy = trackLoad;
    if (busy && busy.fromMs <= from && busy.toMs >= Math.min(to, Date.now()) && todo.every((c) => busy.ids.has(c.id))) return;
    if (trackAbort) trackAbort.abort();
    const ctl = new AbortController();
    trackAbort = ctl;
    const qFrom = from - span / 2, qTo = Math.min(to + span / 2, Date.now() + 60000);
    const load = { ctl, ids: new Set(todo.map((c) => c.id)), fromMs: qFrom, toMs: qTo };
    trackLoad = load;
    await Promise.all(todo.map(async (cam) => {
        const layers = [];
        for (const provider of trackProviders) {
            try {
                layers.push(...await provider(cam, qFrom, qTo, ctl.signal));
            } catch (e) {
                if (ctl.signal.aborted) return;
            }
        }
        trackCache.set(cam.id, { fromMs: qFrom, toMs: qTo, at: Date.now(), layers });
    }));
    if (trackLoad === load) trackLoad = null;
    if (!ctl.signal.aborted) updateRows();
}

function renderZoom() {
    document.querySelectorAll('[data-zoom]').forEach((b) => {
        b.setAttribute('aria-pressed', String(Number(b.dataset.zoom) === timeline.zoomIndex));
    });
}

// ---- marking a range for a case ---------------------------------------------------------------
// "Mark in" and "Mark out" take the moment on screen (the playhead in playback, now when
// live); the range between them, drawn on the timeline, goes into a case with "Add to case…"
// for cameras of the timeline (the selected tile's camera preselected).
const marks = { inMs: null, outMs: null };
let markNote = '';   // what the last addition did, shown next to the range

const markNow = () => (state.mode === 'playback' && clock.now() != null ? Math.round(clock.now()) : Date.now());

function markedRange() {
    if (marks.inMs == null || marks.outMs == null) return null;
    const startMs = Math.min(marks.inMs, marks.outMs), endMs = Math.max(marks.inMs, marks.outMs);
    return endMs > startMs ? { startMs, endMs } : null;
}

function setMark(which) {
    if (!can('cases') || stopped) return;
    marks[which] = markNow();
    markNote = '';
    renderMarks();
}

function clearMarks() {
    marks.inMs = marks.outMs = null;
    markNote = '';
    renderMarks();
}

function renderMarks() {
    const out = $('mark-range');
    const r = markedRange();
    timeline.marks = { inMs: marks.inMs, outMs: marks.outMs };
    let text = '';
    if (r) text = t('mk.range', { range: fmtRange(r.startMs, r.endMs), seconds: Math.round((r.endMs - r.startMs) / 1000) });
    else if (marks.inMs != null) text = t('mk.fromOnly', { time: fmtDateTime(marks.inMs) });
    else if (marks.outMs != null) text = t('mk.toOnly', { time: fmtDateTime(marks.outMs) });
    out.textContent = markNote ? `${text} · ${markNote}` : text;
    out.title = out.textContent ? `${out.textContent}\n${t('mk.rangeHint')}` : t('mk.rangeHint');
    out.dataset.inMs = marks.inMs == null ? '' : String(marks.inMs);
    out.dataset.outMs = marks.outMs == null ? '' : String(marks.outMs);
    $('mark-clear').disabled = marks.inMs == null && marks.outMs == null;
    $('mark-add').disabled = !r || !rowCameras().length;
    timeline.draw();
}

function addMarkedToCase() {
    const r = markedRange();
    const cams = rowCameras();
    if (!can('cases') || !r || !cams.length) return;
    const selected = state.tiles[state.enlarged ?? state.selected];
    addCase.open({ kind: 'range', ...r, cameras: cams.map((c) => ({ id: c.id, name: c.name })), selected }, (detail, n) => {
        markNote = t('mk.added', { n, reference: detail.reference });
        renderMarks();
        if (state.page === 'cases') cases.show();
    });
}

// ---- polling --------------------------------------------------------------------------------
const cameraList = new CameraList($('cameras'), pickCamera);
const cameraArray = () => [...state.cameras.values()];
const zoneEditor = new ZoneEditor({ cameras: cameraArray });
const register = new CameraRegister($('register').querySelector('tbody'), $('register-note'),
    { onZones: (id) => zoneEditor.open(id), canZones: () => can('cameras.admin') });

async function pollCameras() {
    if (stopped || !can('cameras.read')) return;
    try {
        const cams = await api.cameras();
        if (stopped) return;
        state.cameras = new Map(cams.map((c) => [c.id, c]));
        const first = !state.camerasLoaded;
        state.camerasLoaded = true;
        cameraList.render(cams);
        register.render(cams);
        if (state.page === 'events' && first) events.fillCameras();
        if (first) refresh(); else { grid.reconcile(wants(), viewNow()); updateRows(); }
    } catch (e) {
        if (stopped) return;
        cameraList.render(null, e.message);
        register.render(null, e.message);
    }
}

const viewNow = () => ({ layout: state.layout, enlarged: state.enlarged, masterUtc: clock.now(), playing: clock.playing });

async function pollHealth() {
    const h = $('health');
    if (stopped) return;
    try {
        const r = await api.health();
        const full = (r.storage || []).find((s) => s.full);
        h.dataset.status = r.status;
        h.textContent = full ? t('health.storageFull', { root: full.root }) : t(r.status === 'ok' ? 'health.ok' : 'health.degraded');
        h.title = r.cameras ? t('health.cameras', { online: r.cameras.online, total: r.cameras.total }) : '';
    } catch {
        h.dataset.status = 'down';
        h.textContent = t('health.down');
        h.title = '';
    }
}

// ---- keyboard -------------------------------------------------------------------------------
function onKey(e) {
    if (stopped || state.page !== 'video' || !can('live')) return;
    const tag = e.target.tagName;
    const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
    if (e.key === 'Escape') {
        if (state.enlarged != null && !document.fullscreenElement) { enlarge(null); e.preventDefault(); }
        return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const byKey = { 1: 1, 2: 4, 3: 9, 4: 16 };
    switch (e.key) {
        case '1': case '2': case '3': case '4': setLayout(byKey[e.key]); break;
        case 'l': case 'L': goLive(); break;
        case ' ': togglePlay(); break;
        case 'ArrowLeft': step(e.shiftKey ? -60000 : -10000); break;
        case 'ArrowRight': step(e.shiftKey ? 60000 : 10000); break;
        case '+': case '=': timeline.zoomBy(-1); break;
        case '-': case '_': timeline.zoomBy(1); break;
        case 'f': case 'F': fullscreen(); break;
        case 'i': case 'I': if (!can('cases')) return; setMark('inMs'); break;
        case 'o': case 'O': if (!can('cases')) return; setMark('outMs'); break;
        default: return;
    }
    e.preventDefault();
}

function fullscreen() {
    if (document.fullscreenElement) { document.exitFullscreen().catch(() => {}); return; }
    const target = state.enlarged != null ? grid.tiles[state.enlarged].node : $('grid');
    if (target.requestFullscreen) target.requestFullscreen().catch(() => {});
}

// The selected (or enlarged) tile's camera over the visible window, at most one hour.
function download() {
    if (!can('export')) return;
    const index = state.enlarged ?? state.selected;
    const id = state.tiles[index];
    if (id == null) return;
    const to = Math.min(timeline.toMs, Date.now());
    const from = Math.max(timeline.fromMs, to - 3600e3);
    const a = document.createElement('a');
    a.href = api.downloadUrl(id, 'main', from, to);
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
}

// ---- pages -----------------------------------------------------------------------------------
const users = new UsersPage({ cameras: cameraArray, onSelfChanged: () => location.reload() });
const addCase = new AddToCaseDialog();
const events = new EventsPage({ cameras: cameraArray, onOpen: openEvent, onAddToCase: addEventToCase });
const cases = new CasesPage({ onPlay: (camera, startMs) => openAt(camera, startMs) });

// An event of the events page into a case (the server takes the event's camera and span).
function addEventToCase(ev) {
    if (!can('cases')) return;
    const cam = state.cameras.get(ev.camera);
    addCase.open({ kind: 'event', event: ev, camera: cam ? cam.name : `#${ev.camera}` },
        (detail) => events.say(t('ev.added', { reference: detail.reference })));
}

// A camera on the video page (in a shown tile, else in the selected one), played from `ms`.
function openAt(camera, ms) {
    if (!can('playback')) return;
    showPage('video');
    const shown = state.enlarged != null ? [state.enlarged] : [...Array(state.layout).keys()];
    if (!shown.some((i) => state.tiles[i] === camera)) {
        const free = shown.find((i) => state.tiles[i] == null);
        assign(free ?? (shown.includes(state.selected) ? state.selected : shown[0]), camera);
    }
    seek(ms);
}

// An event of the events page: its camera played from a little before its start.
function openEvent(ev) {
    if (!can('playback')) return;
    const start = Date.parse(ev.start);
    openAt(ev.camera, start - EVENT_PRE_MS);
    // An event that began as the recording did (a camera coming online) opens at the
    // recording's start instead of "no recording" before it.
    recordingStartNear(ev.camera, start).then((ms) => {
        if (ms != null && ms > start - EVENT_PRE_MS && state.mode === 'playback' && Math.abs(clock.now() - start) < 30000) seek(ms);
    });
}

// The latest start of the spans (of every recorded stream) that hold `ms`, or null.
async function recordingStartNear(id, ms) {
    const cam = state.cameras.get(id);
    const streams = cam && cam.record_sub && cam.sub_url ? ['main', 'sub'] : ['main'];
    let best = null;
    try {
        for (const stream of streams) {
            const r = await api.recordings(id, ms - EVENT_PRE_MS, ms + 1000, stream);
            const sp = (r.spans || []).find((x) => Date.parse(x.start) <= ms + 1000 && Date.parse(x.end) >= ms);
            if (sp) best = Math.max(best ?? 0, Date.parse(sp.start) + 200);
        }
    } catch { return null; }
    return best;
}

const audit = new AuditPage({
    cameras: cameraArray,
    userNames: () => (can('users.read') ? api.users().then((us) => us.map((u) => u.name)) : Promise.resolve([])),
});

const permitted = (e) => !e.dataset.needs || can(e.dataset.needs);
const pageAllowed = (p) => !!PAGES[p] && can(PAGES[p]);
const defaultPage = () => Object.keys(PAGES).find(pageAllowed) || null;

function showPage(p) {
    if (!pageAllowed(p)) p = defaultPage();
    const changed = p !== state.page;
    state.page = p;
    document.body.dataset.page = p || '';
    for (const e of document.querySelectorAll('[data-only-page]')) e.hidden = e.dataset.onlyPage !== p || !permitted(e);
    for (const b of document.querySelectorAll('nav.pages button')) {
        if (b.dataset.page === p) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    }
    if (location.hash.slice(1) !== (p || '')) history.replaceState(null, '', '#' + (p || ''));
    refresh();    // the players stop away from the video page and start again on it
    if (p === 'users' || p === 'audit') loadSite();
    if (p === 'users') users.show();
    if (p === 'audit') audit.show();
    if (p === 'events' && changed) events.show();
    if (p === 'cases') cases.show(); else cases.hide();
    if (p !== 'cameras') zoneEditor.close();
    if (p === 'video' && changed) scheduleTracks();
}

// "Site X · audit signing key fingerprint Y" on the users and audit pages.
async function loadSite() {
    let text = '', title = '';
    try {
        const s = await api.site();
        const name = s.name || `#${s.id}`;
        text = s.fingerprint ? t('site.key', { name, fingerprint: s.fingerprint }) : t('site.noKey', { name });
        title = s.public_key ? t('site.publicKey', { key: s.public_key }) : '';
    } catch {
        const site = currentSession() && currentSession().site;
        text = t('site.noKey', { name: (site && site.name) || '?' });
    }
    for (const e of document.querySelectorAll('[data-site-line]')) {
        e.textContent = text;
        e.title = title;
    }
}

// ---- signing in and out -------------------------------------------------------------------------
let started = false;     // the console ran in this page once (a new sign-in then reloads it)
let stopped = true;      // nothing polls or plays (signed out)
let timers = [];

const loginPage = new LoginPage((doc) => {
    // A different user may sign in after a sign-out: start from a clean page then.
    if (started) location.reload(); else startConsole(doc);
});
const passwordDialog = new PasswordDialog();

function showSignedIn(on) {
    document.body.dataset.auth = on ? 'in' : 'out';
    document.querySelector('header.topbar').hidden = !on;
    if (!on) for (const e of document.querySelectorAll('[data-only-page]')) e.hidden = true;
}

function startConsole() {
    started = true;
    stopped = false;
    loginPage.hide();
    const saved = loadSaved();
    state.layout = saved.layout;
    state.tiles = saved.tiles;
    showSignedIn(true);
    for (const e of document.querySelectorAll('[data-needs]')) e.hidden = !permitted(e);
    applyDom(document);
    renderAccount();
    syncDatetimeInput(Date.now() - 3600e3);
    showPage(location.hash.slice(1) || defaultPage());
    renderZoom();
    pollCameras();
    pollHealth();
    timers = [
        setInterval(pollCameras, POLL_MS),
        setInterval(pollHealth, POLL_MS * 2),
        setInterval(scheduleTracks, POLL_MS * 2),
        setInterval(tick, 200),
    ];
}

// Stops every poll and player; the page shows nothing of the console until a new sign-in.
function stopConsole() {
    stopped = true;
    for (const id of timers) clearInterval(id);
    timers = [];
    clearTimeout(trackTimer);
    if (trackAbort) trackAbort.abort();
    trackLoad = null;
    if (state.enlarged != null && document.fullscreenElement) document.exitFullscreen().catch(() => {});
    grid.reconcile(wants(), viewNow());
    cases.stop();
    addCase.close();
    for (const id of ['pw-dialog', 'reason-dialog']) if ($(id).open) $(id).close();
    showSignedIn(false);
}

function signedOut(note) {
    stopConsole();
    setSession(null);
    loginPage.show({ user: null, setup_required: false }, note);
}

// Any 401 of a running console: the session expired, was ended by an administrator, or the
// password changed elsewhere.
onSignedOut(() => { if (!stopped) signedOut('auth.expired'); });

async function logout() {
    stopConsole();   // first: nothing may poll into the 401s that follow
    try {
        await api.logout();
    } catch { /* gone already */ }
    signedOut('auth.signedOut');
}

// ---- start ----------------------------------------------------------------------------------
// The clock of the console: synchronises playback tiles, moves the playhead.
function tick() {
    if (state.mode === 'playback') {
        syncStep(clock, grid.playbackPlayers());
        grid.showTimes();
        const m = clock.now();
        if (m != null) {
            timeline.playheadMs = m;
            timeline.follow(m, false);
        }
    } else {
        timeline.playheadMs = null;
        timeline.follow(Date.now(), true);
    }
    renderPosition();
    timeline.draw();
}

function changeLang(value) {
    setLang(value);
    $('lang').value = getLang();
    $('login-lang').value = getLang();
    if (stopped) return;
    grid.rerender();
    refresh();
    renderAccount();
    users.rerender();
    audit.rerender();
    events.rerender();
    cases.rerender();
    renderMarks();
    pollHealth();
    pollCameras();
    if (state.page === 'users' || state.page === 'audit') loadSite();
}

// The controls, wired once; they act only while the console runs.
function wire() {
    for (const id of ['lang', 'login-lang']) {
        $(id).value = getLang();
        $(id).addEventListener('change', () => changeLang($(id).value));
    }
    for (const n of LAYOUTS) $('layout-' + n).addEventListener('click', () => setLayout(n));
    $('goto-live').addEventListener('click', goLive);
    $('goto-time').addEventListener('click', gotoInputTime);
    $('datetime').addEventListener('keydown', (e) => { if (e.key === 'Enter') gotoInputTime(); });
    $('play-pause').addEventListener('click', togglePlay);
    $('step-back').addEventListener('click', () => step(-10000));
    $('step-forward').addEventListener('click', () => step(10000));
    $('fullscreen').addEventListener('click', fullscreen);
    $('download').addEventListener('click', download);
    $('mark-in').addEventListener('click', () => setMark('inMs'));
    $('mark-out').addEventListener('click', () => setMark('outMs'));
    $('mark-clear').addEventListener('click', clearMarks);
    $('mark-add').addEventListener('click', addMarkedToCase);
    $('zoom-in').addEventListener('click', () => timeline.zoomBy(-1));
    $('zoom-out').addEventListener('click', () => timeline.zoomBy(1));
    document.querySelectorAll('[data-zoom]').forEach((b) => b.addEventListener('click', () => timeline.setZoom(Number(b.dataset.zoom))));
    document.querySelectorAll('nav.pages button').forEach((b) => b.addEventListener('click', () => { location.hash = b.dataset.page; }));
    window.addEventListener('hashchange', () => { if (!stopped && location.hash.slice(1) !== state.page) showPage(location.hash.slice(1)); });
    $('logout').addEventListener('click', logout);
    $('acct-password').addEventListener('click', () => passwordDialog.open());
    document.addEventListener('keydown', onKey);
}

async function boot() {
    wire();
    applyDom(document);
    let doc = null;
    try {
        doc = await api.session();
    } catch {
        showSignedIn(false);
        loginPage.show({ user: null, setup_required: false }, 'auth.network');
        return;
    }
    setSession(doc);
    if (doc.user) {
        startConsole();
    } else {
        showSignedIn(false);
        loginPage.show(doc, null);
    }
}

// For browser tests and the curious: what the console shows now.
window.sargas = {
    state: () => ({
        layout: state.layout,
        enlarged: state.enlarged,
        mode: state.mode,
        page: state.page,
        masterUtcMs: state.mode === 'playback' ? clock.now() : null,
        marks: { ...marks },
        playing: state.mode === 'playback' && clock.playing,
        tiles: grid.tiles.slice(0, state.layout).map((tile, i) => ({
            index: i,
            camera: state.tiles[i],
            stream: tile.player ? tile.want.stream : null,
            mode: tile.player ? tile.want.mode : null,
            visible: !tile.node.hidden,
            utcMs: tile.player instanceof PlaybackPlayer ? tile.player.utc() : null,
            latency: tile.player && tile.player.latency ? tile.player.latency() : null,
        })),
    }),
    // who is signed in: {user, role, site, permissions}, or null
    session: () => {
        const s = currentSession();
        return s && { user: s.user.name, role: s.user.role, site: s.site && s.site.name, permissions: s.permissions };
    },
    cameras: () => cameraArray().map((c) => ({ id: c.id, name: c.name })),
    showPage: (p) => { location.hash = p; },
    seek: (utcMs) => seek(utcMs),
    live: goLive,
    setLayout,
    enlarge,
    assign,
    zooms: ZOOMS,
    // the heat strip of a camera's timeline row: [{startMs, endMs, level}] (non-zero steps)
    activity: (id) => (((trackCache.get(id) || {}).layers || []).find((l) => l.kind === 'activity') || { items: [] })
        .items.map(({ startMs, endMs, level }) => ({ startMs, endMs, level })),
};

boot();
