/**
 * Text the console draws that is printable ASCII or one of a few symbols (`…`, `●`, `·`,
 * `→`, the sparkline blocks…): each of those is one column wide (East Asian Width narrow,
 * neutral or ambiguous — narrow, as string-width counts by default), one UTF-16 unit, not an
 * emoji and never joined to a neighbour in one grapheme. For such text, width = length.
 * string-width finds that only by cutting the text into graphemes (Intl.Segmenter) and
 * testing each for emoji, and Ink's line diff likewise: a table row with one `…` cost ~10×
 * an ASCII row, every frame (issue 13: the Flows pane at 4 frames a second). The build
 * (esbuild.config.mjs, plugin `narrow-text`) gives both a fast path for this text;
 * test/unit/build/narrow-text.test.ts holds every character to string-width's own answer.
 */
export const NARROW_TEXT_SOURCE =
  '^[\\u0020-\\u007E\\u00B7\\u00D7\\u2013\\u2014\\u2026\\u2190-\\u2194\\u2212\\u2264\\u2265\\u2500\\u2502\\u2581-\\u2588\\u25CB\\u25CF\\u2713\\u2717]*$';
