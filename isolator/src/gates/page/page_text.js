// Page-content gate, pure text helpers: no DOM, no globals read. The server
// prepends this file to `page_content.js` (both run in the isolated world);
// `node --test` loads it as a CommonJS module (isolator/tests/js/).
//
// - `luhn(digits)`: the Luhn checksum of a digit string;
// - `plausible(check, match)`: whether a pattern's match passes the
//   detector's check (`"luhn"`: 13 to 19 digits passing Luhn; none: true);
// - `spans(text, patterns, values)`: the [start, end) spans of `text` to
//   hide: matches of `patterns` ({name, re, check}, `re` global) that pass
//   their check, and every occurrence of the exact `values` the server found;
// - `hide(text, spans)`: `text` with the letters and digits of each span
//   replaced by bullets, separators kept (the layout does not move).
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
  const spans = (text, patterns, values) => {
    const out = [];
    if (text.length < 4) return out;
    for (const { re, check } of patterns) {
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) { re.lastIndex++; continue; }
        if (plausible(check, m[0])) out.push([m.index, m.index + m[0].length]);
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
  return { luhn, plausible, spans, hide };
})();
if (typeof module === "object" && module && module.exports) module.exports = __isolatorText;
