// Page-content gate, pure text helpers: no DOM, no globals read. The server
// prepends this file to `page_content.js` (both run in the isolated world);
// `node --test` loads it as a CommonJS module (isolator/tests/js/).
//
// - `luhn(digits)`: the Luhn checksum of a digit string;
// - `plausible(check, match)`: whether a pattern's match passes the
//   detector's check (`"luhn"`: 13 to 19 digits passing Luhn; none: true);
// - `spans(text, patterns, values)`: the [start, end) spans of `text` to
//   hide: matches of `patterns` ({name, re, check}, `re` global) that pass
//   their check (also with dots, thin spaces, slashes... between groups,
//   and runs of digit groups that show a match when drawn reversed or in
//   reverse group order), and every occurrence of the exact `values` the
//   server found;
// - `hide(text, spans)`: `text` with the letters and digits of each span
//   replaced by bullets, separators kept (the layout does not move);
// - `contentText(value, attr, counter)`: the text a computed CSS `content`
//   value shows (`::before`/`::after`): its strings, `attr(x)` through
//   `attr(name)`, `counter(x)` and `counters(x, sep)` through
//   `counter(name)` (the counter's values, outermost first); quotes, images
//   and alternative text (after `/`) show none;
// - `applyCounters(values, reset, set, increment)`: `values` (a Map) after
//   an element's computed `counter-reset`, `counter-set` and
//   `counter-increment`, in that order (one scope per name: nested scopes
//   of the same name are not told apart).
const __isolatorText = (() => {
  const luhn = (digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (d < 0 || d > 9) return false;
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return digits.length > 0 && sum % 10 === 0;
  };
  const plausible = (check, match) => {
    if (check !== "luhn") return true;
    const digits = match.replace(/\D/g, "");
    return digits.length >= 13 && digits.length <= 19 && luhn(digits);
  };
  // Separators a page may draw between digit groups instead of a space.
  const SEP = "[.\u00a0\u2007\u2009\u202f/_\u00b7]";
  const SEP_RE = new RegExp("(?<=\\d)" + SEP + "(?=\\d)", "g");
  // A run of digits in groups: what a reordering trick shuffles.
  const RUN_RE = new RegExp("\\d(?:(?:[ -]|" + SEP + ")?\\d){12,}", "g");
  const matchesIn = (text, patterns, out, offset = 0, whole = null) => {
    for (const { re, check } of patterns) {
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) { re.lastIndex++; continue; }
        if (!plausible(check, m[0])) continue;
        out.push(whole || [offset + m.index, offset + m.index + m[0].length]);
        if (whole) return true;
      }
    }
    return false;
  };
  const spans = (text, patterns, values) => {
    const out = [];
    if (text.length < 4) return out;
    matchesIn(text, patterns, out);
    // Dots, thin or no-break spaces, slashes... between the groups.
    const spaced = text.replace(SEP_RE, " ");
    if (spaced !== text) matchesIn(spaced, patterns, out);
    // Groups drawn in another order than written (`<bdo dir=rtl>`, a
    // right-to-left paragraph reorders the groups, bidi overrides reverse
    // every digit): a run is hidden whole when read backwards, or its
    // groups in reverse order, it shows a value.
    if (patterns.length) {
      RUN_RE.lastIndex = 0;
      let m;
      while ((m = RUN_RE.exec(spaced)) !== null) {
        const run = m[0];
        const span = [m.index, m.index + run.length];
        if (out.some(([a, b]) => a <= span[0] && b >= span[1])) continue;
        const backwards = run.split("").reverse().join("");
        const groups = run.split(/[ -]/).reverse().join(" ");
        if (!matchesIn(backwards, patterns, out, 0, span)) matchesIn(groups, patterns, out, 0, span);
      }
    }
    for (const v of values) {
      if (!v) continue;
      let i = text.indexOf(v);
      while (i !== -1) {
        out.push([i, i + v.length]);
        i = text.indexOf(v, i + v.length);
      }
    }
    return out;
  };
  const hide = (text, found) => {
    const chars = text.split("");
    for (const [s, e] of found) {
      for (let i = s; i < e; i++) if (/[\p{L}\p{N}]/u.test(chars[i])) chars[i] = "\u2022";
    }
    return chars.join("");
  };
  const contentText = (value, attr, counter) => {
    const s = String(value || "");
    let i = 0;
    let out = "";
    const str = () => {
      const q = s[i++];
      let t = "";
      while (i < s.length && s[i] !== q) {
        if (s[i] === "\\") {
          i++;
          const m = /^[0-9a-fA-F]{1,6} ?/.exec(s.slice(i, i + 7));
          if (m) {
            const cp = parseInt(m[0], 16);
            t += String.fromCodePoint(cp > 0 && cp <= 0x10ffff ? cp : 0xfffd);
            i += m[0].length;
          } else if (i < s.length) t += s[i++];
        } else t += s[i++];
      }
      i++;
      return t;
    };
    const args = () => {
      const list = [];
      let cur = "";
      while (i < s.length && s[i] !== ")") {
        if (s[i] === '"' || s[i] === "'") { cur += str(); continue; }
        if (s[i] === ",") { list.push(cur.trim()); cur = ""; i++; continue; }
        cur += s[i++];
      }
      i++;
      list.push(cur.trim());
      return list;
    };
    while (i < s.length) {
      const c = s[i];
      if (c === '"' || c === "'") { out += str(); continue; }
      if (c === "/") break; // alternative text: not drawn
      const m = /^[a-zA-Z-]+\(/.exec(s.slice(i, i + 40));
      if (!m) { i++; continue; }
      i += m[0].length;
      const name = m[0].slice(0, -1).toLowerCase();
      const a = args();
      if (name === "attr") out += attr(a[0].split(/\s+/)[0]) || "";
      else if (name === "counter") out += String((counter(a[0]) || [0]).slice(-1)[0]);
      else if (name === "counters") out += (counter(a[0]) || [0]).join(a[1] || "");
    }
    return out;
  };
  const applyCounters = (values, reset, set, increment) => {
    for (const [v, dflt, add] of [[reset, 0, false], [set, 0, false], [increment, 1, true]]) {
      if (!v || v === "none") continue;
      const toks = String(v).trim().split(/\s+/);
      for (let k = 0; k < toks.length; k++) {
        const name = toks[k];
        let n = dflt;
        if (k + 1 < toks.length && /^-?\d+$/.test(toks[k + 1])) n = parseInt(toks[++k], 10);
        values.set(name, add ? (values.get(name) || 0) + n : n);
      }
    }
    return values;
  };
  return { luhn, plausible, spans, hide, contentText, applyCounters };
})();
if (typeof module === "object" && module && module.exports) module.exports = __isolatorText;
