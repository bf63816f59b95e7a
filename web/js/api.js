// The JSON API of sargasd (same origin). Errors come back as
// {"error":{"code","message"}}; they are thrown as ApiError.
//
// The console signs in with a session cookie (HttpOnly, SameSite=Strict: the browser sends
// it with every request of this origin, media and hls.js included). Requests that change
// something carry the session's CSRF token in X-CSRF-Token. A 401 from any call means the
// session ended: the handler set with onSignedOut() takes the console back to the login page.
const BASE = '/api/v1';

export class ApiError extends Error {
    constructor(status, code, message) {
        super(message || code || `HTTP ${status}`);
        this.status = status;
        this.code = code || 'http_' + status;
        this.retryAfter = null;   // seconds, from Retry-After (429)
    }
}

let session = null;        // the session document of the signed-in user, or null
let signedOutHandler = null;

export const currentSession = () => session;
export function setSession(doc) { session = doc && doc.user ? doc : null; }
// fn(error): called when the server answers 401 to a call of a signed-in console.
export function onSignedOut(fn) { signedOutHandler = fn; }

// What the signed-in user may do: 'live', 'playback', 'export', 'users.admin', ...
export const can = (perm) => !!(session && session.permissions && session.permissions.includes(perm));

export async function errorFrom(resp) {
    let code = null, message = null;
    try {
        const body = await resp.json();
        if (body && body.error) ({ code, message } = body.error);
    } catch { /* not JSON */ }
    const err = new ApiError(resp.status, code, message);
    const ra = Number(resp.headers.get('Retry-After'));
    if (ra > 0) err.retryAfter = ra;
    // login_failed is a 401 too, but it is an answer to the login form, not a lost session.
    if (resp.status === 401 && err.code !== 'login_failed' && signedOutHandler) signedOutHandler(err);
    return err;
}

const changes = (method) => method !== 'GET' && method !== 'HEAD';

// One API call: JSON in (body, if given) and out (null for 204). Throws ApiError.
export async function request(method, path, body, signal) {
    const headers = {};
    if (changes(method) && session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    const init = { method, headers, signal, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const resp = await fetch(BASE + path, init);
    if (!resp.ok) throw await errorFrom(resp);
    if (resp.status === 204) return null;
    return (resp.headers.get('Content-Type') || '').includes('json') ? resp.json() : resp.text();
}

export const getJson = (path, signal) => request('GET', path, undefined, signal);

const iso = (ms) => new Date(ms).toISOString();
const cam = (id) => `${BASE}/cameras/${encodeURIComponent(id)}`;
const uid = (id) => `/users/${encodeURIComponent(id)}`;

// Query string of the defined, non-empty values of `params`.
export function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? '?' + s : '';
}

export const api = {
    health: (signal) => getJson('/health', signal),
    cameras: (signal) => getJson('/cameras', signal).then((r) => r.cameras || []),
    recordings: (id, fromMs, toMs, stream, signal) =>
        getJson(`/cameras/${encodeURIComponent(id)}/recordings?from=${iso(fromMs)}&to=${iso(toMs)}&stream=${stream}`, signal),
    liveUrl: (id, stream) => `${cam(id)}/live/${stream}.mp4`,
    // keys: ["<camera id>:<main|sub>", ...]: all of them over one response (livemux.js)
    liveMuxUrl: (keys) => `${BASE}/live?streams=${keys.join(',')}`,
    playlistUrl: (id, stream, fromMs, toMs) => `${cam(id)}/playback/${stream}.m3u8?from=${iso(fromMs)}&to=${iso(toMs)}`,
    snapshotUrl: (id, width = 640) => `${cam(id)}/snapshot.jpg?stream=sub&width=${width}`,
    downloadUrl: (id, stream, fromMs, toMs) => `${cam(id)}/download.mp4?from=${iso(fromMs)}&to=${iso(toMs)}&stream=${stream}`,

    // accounts
    session: () => getJson('/session'),
    login: (user, password) => request('POST', '/login', { user, password }),
    logout: () => request('POST', '/logout'),
    setup: (token, user, password) => request('POST', '/setup', { token, user, password }),
    changePassword: (current, next) => request('POST', '/session/password', { current, new: next }),
    site: () => getJson('/site'),
    users: () => getJson('/users').then((r) => r.users || []),
    user: (id) => getJson(uid(id)),
    createUser: (u) => request('POST', '/users', u),
    updateUser: (id, changes) => request('PATCH', uid(id), changes),
    deleteUser: (id) => request('DELETE', uid(id)),
    setGrants: (id, grants) => request('PUT', uid(id) + '/grants', { grants }),
    endSessions: (id) => request('DELETE', uid(id) + '/sessions'),

    // the audit trail; filter: {user, camera, action, from, to} (from/to RFC 3339 UTC)
    audit: (filter, before, limit = 100) => getJson('/audit' + query({ ...filter, before, limit })),
    auditCsvUrl: (filter) => `${BASE}/audit.csv${query(filter)}`,

    // motion: the activity index, events (filter: {camera: '1,2', zone, from, to, min_score}), zones
    activity: (id, fromMs, toMs, signal) =>
        getJson(`/cameras/${encodeURIComponent(id)}/activity?from=${iso(fromMs)}&to=${iso(toMs)}`, signal),
    events: (filter, before, limit = 50) => getJson('/events' + query({ ...filter, before, limit })),
    zones: (id) => getJson(`/cameras/${encodeURIComponent(id)}/zones`).then((r) => r.zones || []),
    setZones: (id, zones) => request('PUT', `/cameras/${encodeURIComponent(id)}/zones`, { zones }),

    // evidence: cases (state: open | closed | all), their items (each holds an evidence lock
    // while the case is open), exports of a case or of ranges (background jobs), the site's key
    cases: (state = 'open') => getJson('/cases' + query({ state })).then((r) => r.cases || []),
    caseDetail: (id) => getJson(`/cases/${encodeURIComponent(id)}`),
    createCase: (c) => request('POST', '/cases', c),
    // item: {camera_id, start, end, note?} (RFC 3339 UTC) or {event_id, note?}
    addCaseItem: (id, item) => request('POST', `/cases/${encodeURIComponent(id)}/items`, item),
    releaseCaseItem: (id, item, reason) =>
        request('POST', `/cases/${encodeURIComponent(id)}/items/${encodeURIComponent(item)}/release`, { reason }),
    closeCase: (id, reason) => request('POST', `/cases/${encodeURIComponent(id)}/close`, { reason }),
    exports: () => getJson('/exports').then((r) => r.exports || []),
    exportJob: (id, signal) => getJson(`/exports/${encodeURIComponent(id)}`, signal),
    // job: {case_id | items: [{camera_id, start, end}], reason, format: 'mp4' | 'onvif'}
    createExport: (job) => request('POST', '/exports', job),
    siteKeyUrl: () => `${BASE}/site/key.pub`,
};
