// Reads an exported bundle (`isolator audit export`) in the browser: an
// uncompressed tar of manifest.json, segments/*.seg and keyframes.idx.
// Record format (isolator/src/audit/format.rs), little-endian:
//   len u32 | kind u8 | seq u64 | mono_ms u64 | wall_ms i64 | payload | sha256[32]
// kinds: 1 header, 2 seal, 3 frame (tab, width, height u32, JPEG),
// 4 frame reference (tab, width, height u32, segment u32, offset u64), 5 event JSON.

const PREFIX = 29;
const HASH = 32;

/** Splits a tar archive into { name: Uint8Array }. */
export function untar(buf) {
  const bytes = new Uint8Array(buf);
  const files = {};
  const dec = new TextDecoder();
  let at = 0;
  while (at + 512 <= bytes.length) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = dec.decode(header.subarray(0, 100)).replace(/\0.*$/s, '');
    const sizeText = dec.decode(header.subarray(124, 136)).replace(/\0.*$/s, '').trim();
    const size = parseInt(sizeText, 8);
    if (!Number.isFinite(size) || at + 512 + size > bytes.length) {
      throw new Error(`not a bundle: tar entry ${JSON.stringify(name)} is cut short`);
    }
    files[name] = bytes.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function u64(view, at) {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

/**
 * Parses a bundle into { manifest, records, events, duration }: records are
 * { t, seq, wall_ms, event } with frames as { type: 'frame', tab, width,
 * height, bytes } (repeats resolved), sorted by time.
 */
export function parseBundle(buf) {
  const files = untar(buf);
  if (!files['manifest.json']) throw new Error('not a bundle: no manifest.json');
  const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
  const names = Object.keys(files).filter((n) => n.startsWith('segments/')).sort();
  const frames = new Map();
  const records = [];
  const dec = new TextDecoder();
  for (const name of names) {
    const seg = parseInt(name.slice('segments/'.length), 10);
    const data = files[name];
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 0;
    while (at + PREFIX <= data.length) {
      const len = view.getUint32(at, true);
      const total = 4 + len + HASH;
      if (len < PREFIX - 4 || at + total > data.length) break; // truncated tail
      const kind = data[at + 4];
      const seq = u64(view, at + 5);
      const t = u64(view, at + 13);
      const wall = u64(view, at + 21);
      const payload = data.subarray(at + PREFIX, at + 4 + len);
      const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      let event = null;
      if (kind === 3) {
        event = { type: 'frame', tab: pv.getUint32(0, true), width: pv.getUint32(4, true),
          height: pv.getUint32(8, true), bytes: payload.subarray(12) };
        frames.set(`${seg}:${at}`, event.bytes);
      } else if (kind === 4) {
        const key = `${pv.getUint32(12, true)}:${u64(pv, 16)}`;
        const bytes = frames.get(key);
        if (!bytes) throw new Error(`${name} byte ${at}: repeat of a frame not in the bundle`);
        event = { type: 'frame', tab: pv.getUint32(0, true), width: pv.getUint32(4, true),
          height: pv.getUint32(8, true), bytes };
      } else if (kind === 5) {
        event = JSON.parse(dec.decode(payload));
      }
      if (event) records.push({ t, seq, wall_ms: wall, event });
      at += total;
    }
  }
  records.sort((a, b) => a.t - b.t || a.seq - b.seq);
  const events = records.filter((r) => r.event.type !== 'frame');
  const duration = records.length ? records[records.length - 1].t : 0;
  return { manifest, records, events, duration };
}

/** A player source over a parsed bundle (same shape as the server's chunks). */
export function bundleSource(parsed) {
  const recs = parsed.records;
  const firstAfter = (t) => {
    let lo = 0, hi = recs.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (recs[mid].t <= t) lo = mid + 1; else hi = mid; }
    return lo;
  };
  return {
    async chunk(from, len) {
      const start = firstAfter(from);
      let frame = null;
      for (let i = start - 1; i >= 0; i--) {
        if (recs[i].event.type === 'frame') { frame = { t: recs[i].t, event: recs[i].event }; break; }
      }
      const end = firstAfter(from + len);
      return { from_ms: from, to_ms: from + len, frame, records: recs.slice(start, end), more: end < recs.length };
    },
  };
}
