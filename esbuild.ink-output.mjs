// What the build changes in Ink's Output (node_modules/ink/build/output.js), as one pure
// function of its source so that a test can run the patched module beside Ink's own
// (test/unit/build/ink-output.test.ts). Every patch keeps what a frame writes the same
// string; each throws if Ink's source no longer has what it replaces. Idle CPU: README
// (Performance).
//
// 1. One set of caches for every frame. Ink builds every frame from scratch: each text of
//    the screen is cut into styled characters (an ANSI tokenizer) and measured (string-width)
//    again, though only the clock and a countdown changed. Its Output keeps caches for that,
//    but a new set per frame; this gives every frame the same set, emptied when it grows
//    past 20,000 entries (a countdown adds one text a second). The cached values are pure
//    functions of the text and never modified by Ink.
// 2. One shared blank cell for every frame's grid: 10,000 new objects (and as many empty
//    arrays) per frame at 200×50 otherwise, which a scavenge in the middle of a frame
//    promotes wholesale (issue 13: the console's largest source of old-space garbage at 200
//    nodes). A cell is replaced, never modified (applyWriteOperation assigns cells; styles
//    arrays are shared by the cached styled characters already).
// 3. A written text's lines (its styled characters split at newlines and written back as
//    strings) are cached with the other per-text values: Ink re-serialised every text of the
//    screen on every frame.
// 4. The default-ignorable filter's regular expression is made once, not once per character
//    of each new text.
// 5. A row of the grid whose cells are the very cells of the same row in the last frame
//    (cells are shared cached objects, never modified) is the same string: it is not
//    serialised again.
// 6. A line cut to a clip's columns (a text wider than its box: every row of a pane) is
//    cached by the line and the two columns, with the other per-text values: Ink cut it
//    again, character by character, on every frame.

const must = (src, from, what) => {
  if (typeof from === 'string' ? !src.includes(from) : !from.test(src))
    throw new Error(`ink-output: ${what} not found in Ink's output.js`);
};

/** Ink's output.js source → the build's. */
export function patchInkOutput(src) {
  const caches = '    caches = new OutputCaches();';
  must(src, caches, 'the per-frame caches');
  src = src.replace(caches, '    caches = sharedOutputCaches();');

  const blank =
    /row\.push\(\{\s*type: 'char',\s*value: ' ',\s*fullWidth: false,\s*styles: \[\],\s*\}\);/;
  must(src, blank, 'the blank cell of get()');
  src = src.replace(blank, 'row.push(BLANK_CELL);');

  const ignorable =
    '.filter(character => !/^\\p{Default_Ignorable_Code_Point}+$/u.test(character.value));';
  must(src, ignorable, 'the default-ignorable filter');
  src = src.replace(ignorable, '.filter(character => !DEFAULT_IGNORABLE.test(character.value));');

  const split =
    /const characterLines = \[\[\]\];\s*for \(const character of this\.caches\.getStyledChars\(text\)\) \{\s*if \(character\.value === '\\n'\) \{\s*characterLines\.push\(\[\]\);\s*\}\s*else \{\s*characterLines\.at\(-1\)\.push\(character\);\s*\}\s*\}\s*let lines = characterLines\.map\(line => styledCharsToString\(line\)\);/;
  must(src, split, "applyWriteOperation's split into lines");
  src = src.replace(split, 'let lines = writtenLines(this.caches, text);');

  const rows =
    /\.map\(line => \{\s*\/\/ See https:\/\/github\.com\/vadimdemedes\/ink\/pull\/564#issuecomment-1637022742\s*const lineWithoutEmptyItems = line\.filter\(item => item !== undefined\);\s*return styledCharsToString\(lineWithoutEmptyItems\)\.trimEnd\(\);\s*\}\)/;
  must(src, rows, "get()'s rows to strings");
  src = src.replace(rows, '.map(rowString)');

  const slice = '    sliceLineToColumns(line, from, to) {';
  must(src, slice, 'sliceLineToColumns');
  src = src.replace(
    slice,
    `    sliceLineToColumns(line, from, to) {
        if (this.caches !== sharedCaches) return this.sliceLineToColumnsUncached(line, from, to);
        const key = \`\${from},\${to},\${line}\`;
        let cut = sharedSlices.get(key);
        if (cut === undefined) {
            cut = this.sliceLineToColumnsUncached(line, from, to);
            sharedSlices.set(key, cut);
        }
        return cut;
    }
    sliceLineToColumnsUncached(line, from, to) {`,
  );

  return `${src}
const BLANK_CELL = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([]) });
const DEFAULT_IGNORABLE = /^\\p{Default_Ignorable_Code_Point}+$/u;
let sharedCaches;
let sharedLines = new Map();
let sharedSlices = new Map();
function sharedOutputCaches() {
  const c = sharedCaches;
  if (c === undefined || c.styledChars.size + c.widths.size + c.blockWidths.size + sharedLines.size + sharedSlices.size > 20000) {
    sharedCaches = new OutputCaches();
    sharedLines = new Map();
    sharedSlices = new Map();
  }
  return sharedCaches;
}
function writtenLines(caches, text) {
  if (caches !== sharedCaches) return splitLines(caches, text);
  let lines = sharedLines.get(text);
  if (lines === undefined) {
    lines = Object.freeze(splitLines(caches, text));
    sharedLines.set(text, lines);
  }
  return lines;
}
function splitLines(caches, text) {
  const characterLines = [[]];
  for (const character of caches.getStyledChars(text)) {
    if (character.value === '\\n') characterLines.push([]);
    else characterLines.at(-1).push(character);
  }
  return characterLines.map(line => styledCharsToString(line));
}
let lastRows = [];
let lastStrings = [];
function rowString(line, y) {
  const last = lastRows[y];
  if (last !== undefined && last.length === line.length) {
    let same = true;
    for (let i = 0; i < line.length; i++)
      if (last[i] !== line[i]) {
        same = false;
        break;
      }
    if (same) return lastStrings[y];
  }
  // See https://github.com/vadimdemedes/ink/pull/564#issuecomment-1637022742
  const s = styledCharsToString(line.filter(item => item !== undefined)).trimEnd();
  lastRows[y] = line;
  lastStrings[y] = s;
  return s;
}
`;
}
