// What the build changes in Ink's Text (node_modules/ink/build/components/Text.js), as one
// pure function of its source so that a test can run the patched module beside Ink's own
// (test/unit/build/ink-text.test.ts). Idle CPU: README (Performance).
//
// Ink's Text passes its host node a new `internal_transform` closure on every render. For a
// Text inside a Text (a coloured word in a line, every cell of a table row) Ink's reconciler
// then marks the enclosing text's layout node dirty (setTransform on an ink-virtual-text), so
// Yoga measured every such line again on every frame although nothing in it changed: on the
// NGINX pane 125 measures in 5 s, 15–16 with this patch. Here the closure is made once per
// distinct set of style props (the only values it reads) and shared, so an unchanged Text
// gives its node the same function and marks nothing. The closure's body is Ink's own.

const must = (src, from, what) => {
  if (!src.includes(from)) throw new Error(`ink-text: ${what} not found in Ink's Text.js`);
};

const BODY_START = '    const transform = (text) => {\n';
const BODY_END = '        return text;\n    };\n';

/** Ink's components/Text.js source → the build's. */
export function patchInkText(src) {
  must(src, BODY_START, 'the transform closure');
  const start = src.indexOf(BODY_START);
  const end = src.indexOf(BODY_END, start);
  if (end < 0) throw new Error("ink-text: the transform closure's end not found in Ink's Text.js");
  const body = src.slice(start + BODY_START.length, end);
  for (const v of ['dimColor', 'color', 'effectiveBackgroundColor', 'bold', 'italic'])
    must(body, v, v);
  const call =
    '    const transform = textTransform(dimColor, color, effectiveBackgroundColor, bold, italic, underline, strikethrough, inverse);\n';
  return `${src.slice(0, start)}${call}${src.slice(end + BODY_END.length)}
const transforms = new Map();
/** The transform of one set of style props, made once (bounded: emptied past 1,000). */
function textTransform(dimColor, color, effectiveBackgroundColor, bold, italic, underline, strikethrough, inverse) {
    // A falsy colour is no colour (colorize); the key is unambiguous: flags, then two colours
    // that hold no NUL (any other value is not cached).
    const fg = color || '';
    const bg = effectiveBackgroundColor || '';
    if (typeof fg !== 'string' || typeof bg !== 'string' || fg.includes('\\0') || bg.includes('\\0')) {
        return makeTransform(dimColor, color, effectiveBackgroundColor, bold, italic, underline, strikethrough, inverse);
    }
    const flags = (dimColor ? 1 : 0) | (bold ? 2 : 0) | (italic ? 4 : 0) | (underline ? 8 : 0) | (strikethrough ? 16 : 0) | (inverse ? 32 : 0);
    const key = flags + '\\0' + fg + '\\0' + bg;
    let transform = transforms.get(key);
    if (transform === undefined) {
        if (transforms.size >= 1000) transforms.clear();
        transform = makeTransform(dimColor, color, effectiveBackgroundColor, bold, italic, underline, strikethrough, inverse);
        transforms.set(key, transform);
    }
    return transform;
}
function makeTransform(dimColor, color, effectiveBackgroundColor, bold, italic, underline, strikethrough, inverse) {
    return (text) => {
${body}${BODY_END}}
`;
}
