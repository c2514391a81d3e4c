/**
 * The one text filter behind every `/` (the node list, the PKI tree, later panes) and the
 * commands' name filters: a case-insensitive regex when the text compiles as one, else a
 * case-insensitive substring. No filter: undefined (everything matches).
 */
export function textMatcher(filter: string): ((text: string) => boolean) | undefined {
  if (!filter) return undefined;
  let re: RegExp | undefined;
  try {
    re = new RegExp(filter, 'i');
  } catch {
    re = undefined;
  }
  const f = filter.toLowerCase();
  return (text) => (re ? re.test(text) : text.toLowerCase().includes(f));
}

/** The items whose text matches `filter` (all of them without one), in their order. */
export function filterByText<T>(
  items: readonly T[],
  filter: string,
  text: (item: T) => string,
): T[] {
  const match = textMatcher(filter);
  return match ? items.filter((i) => match(text(i))) : [...items];
}
