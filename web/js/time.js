// Media time <-> UTC for HLS playback. `frags` are hls.js fragments of one media playlist
// (ordered, each with programDateTime in UTC ms, start and duration in seconds of the
// player's media timeline). Every discontinuity (recorded-file change, gap) carries its own
// EXT-X-PROGRAM-DATE-TIME, so the mapping is done per fragment, never by one offset.

// Index of the fragment whose media interval holds `t` (seconds), or -1.
function fragAtMedia(frags, t) {
    let lo = 0, hi = frags.length - 1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1, f = frags[mid];
        if (t < f.start) hi = mid - 1;
        else if (t >= f.start + f.duration) lo = mid + 1;
        else return mid;
    }
    return -1;
}

// The UTC ms shown at media time `t`, or null when `t` lies outside the playlist.
// The last fragment also answers for its exact end (a player parked on the last frame).
export function mediaToUtc(frags, t) {
    if (!frags || !frags.length || t == null || Number.isNaN(t)) return null;
    let i = fragAtMedia(frags, t);
    const last = frags[frags.length - 1];
    if (i < 0 && Math.abs(t - (last.start + last.duration)) < 0.05) i = frags.length - 1;
    if (i < 0) return null;
    const f = frags[i];
    if (f.programDateTime == null) return null;
    return f.programDateTime + (t - f.start) * 1000;
}

// Where UTC ms `utc` lies in the playlist:
//   {media, key}            recorded: the media time to seek to, and the start of its
//                           fragment (a keyframe: shown without decoding anything before it)
//   {gap: true, nextUtc}    not recorded, the next recording starts at nextUtc (media = its start)
//   {after: true}           past the last fragment
//   null                    no fragments
export function utcToMedia(frags, utc) {
    if (!frags || !frags.length) return null;
    let lo = 0, hi = frags.length - 1, next = -1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1, f = frags[mid];
        const s = f.programDateTime, e = s + f.duration * 1000;
        if (utc < s) { next = mid; hi = mid - 1; }
        else if (utc >= e) lo = mid + 1;
        else return { media: f.start + (utc - s) / 1000, key: f.start };
    }
    if (next < 0) return { after: true };
    const f = frags[next];
    return { gap: true, nextUtc: f.programDateTime, media: f.start };
}

// UTC of the end of the last fragment (ms), or null.
export function playlistEndUtc(frags) {
    if (!frags || !frags.length) return null;
    const f = frags[frags.length - 1];
    return f.programDateTime + f.duration * 1000;
}

export const toIso = (ms) => new Date(ms).toISOString();
