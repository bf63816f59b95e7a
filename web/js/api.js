// The JSON API of sargasd (same origin). Errors come back as
// {"error":{"code","message"}}; they are thrown as ApiError.
const BASE = '/api/v1';

export class ApiError extends Error {
    constructor(status, code, message) {
        super(message || code || `HTTP ${status}`);
        this.status = status;
        this.code = code || 'http_' + status;
    }
}

export async function errorFrom(resp) {
    let code = null, message = null;
    try {
        const body = await resp.json();
        if (body && body.error) ({ code, message } = body.error);
    } catch { /* not JSON */ }
    return new ApiError(resp.status, code, message);
}

export async function getJson(path, signal) {
    const resp = await fetch(BASE + path, { signal, cache: 'no-store' });
    if (!resp.ok) throw await errorFrom(resp);
    return resp.json();
}

const iso = (ms) => new Date(ms).toISOString();
const cam = (id) => `${BASE}/cameras/${encodeURIComponent(id)}`;

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
};
