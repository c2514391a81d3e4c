// What the build changes in @alcalzone/ansi-tokenize's tokenize (Ink cuts every text it
// writes into styled characters with it), as one pure function of its source so that a test
// can run the patched module beside the package's own (test/unit/build/ansi-tokenize.test.ts).
//
// tokenize walks a text grapheme by grapheme with Intl.Segmenter, the costliest part of a
// new text's first frame (issue 13: the Flows pane writes ~40 new rows twice a second).
// Between two ASCII characters there is always a grapheme boundary (UAX #29: in ASCII only
// CR LF joins), so `graphemes` gives each such character as its own segment without the
// segmenter, and hands every stretch around non-ASCII text to it: from the ASCII character
// before the stretch (a combining mark joins it) to the first ASCII character after it that
// is followed by ASCII or the end (a prepended mark joins what follows it). A text with CR
// goes to the segmenter whole. The segments are the segmenter's own, with the same indexes.

const FROM = 'for (const { segment, index } of segmenter.segment(str)) {';

/** The package's tokenize.js source → the build's. */
export function patchAnsiTokenize(src) {
  if (!src.includes(FROM))
    throw new Error("ansi-tokenize: the segmenter loop not found in tokenize's source");
  return `${src.replace(FROM, 'for (const { segment, index } of graphemes(str)) {')}
function graphemes(str) {
  if (str.includes('\\r')) return segmenter.segment(str);
  const out = [];
  const n = str.length;
  let i = 0;
  while (i < n) {
    if (str.charCodeAt(i) < 0x80 && (i + 1 >= n || str.charCodeAt(i + 1) < 0x80)) {
      out.push({ segment: str[i], index: i });
      i++;
      continue;
    }
    let j = i + 1;
    for (;;) {
      while (j < n && str.charCodeAt(j) >= 0x80) j++;
      if (j >= n) break;
      j++;
      if (j < n && str.charCodeAt(j) >= 0x80) continue;
      break;
    }
    for (const s of segmenter.segment(str.slice(i, j))) out.push({ segment: s.segment, index: i + s.index });
    i = j;
  }
  return out;
}
`;
}
