/**
 * The ingress-nginx access log format, from the one definition the NixOS module also reads
 * (nix/lib/ingress-log-format.json, bundled like nix/pki/layout.json): the controller's
 * default `log-format-upstream` followed by the extra fields. Compiled once into the steps
 * the parser walks: a literal to match, or a variable that runs up to the next literal.
 */
import formatJson from '../../../nix/lib/ingress-log-format.json' with { type: 'json' };

export interface LogFormatDef {
  defaultFormat: string;
  extraFields: string[];
}

export const LOG_FORMAT_DEF: LogFormatDef = {
  defaultFormat: formatJson.defaultFormat,
  extraFields: [...formatJson.extraFields],
};

/** The `log-format-upstream` value: the default format, then each extra field after a space. */
export function ingressLogFormat(def: LogFormatDef = LOG_FORMAT_DEF): string {
  return [def.defaultFormat, ...def.extraFields].join(' ');
}

export type FormatStep =
  | { kind: 'lit'; text: string }
  | {
      kind: 'var';
      name: string;
      /** The literal after it ('' at the end of the line). */
      until: string;
      /** An `$upstream_*` value: a list joined with `, ` or ` : ` (several upstreams tried). */
      list: boolean;
      /** One of the extra fields: a line written without it (the plain default format) still parses. */
      optional: boolean;
    };

export interface CompiledFormat {
  steps: FormatStep[];
  /** Variable names in order. */
  vars: string[];
}

/** `$a - [$b] "$c"` → steps. A variable name is `[a-z0-9_]+`. */
export function compileFormat(def: LogFormatDef = LOG_FORMAT_DEF): CompiledFormat {
  const text = ingressLogFormat(def);
  const firstOptional = def.defaultFormat.length;
  const raw: Array<{ kind: 'lit'; text: string } | { kind: 'var'; name: string; at: number }> = [];
  const re = /\$([a-z0-9_]+)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) raw.push({ kind: 'lit', text: text.slice(last, m.index) });
    raw.push({ kind: 'var', name: m[1]!, at: m.index });
    last = m.index + m[0].length;
  }
  if (last < text.length) raw.push({ kind: 'lit', text: text.slice(last) });
  const steps: FormatStep[] = raw.map((s, i) => {
    if (s.kind === 'lit') return s;
    const next = raw[i + 1];
    return {
      kind: 'var',
      name: s.name,
      until: next?.kind === 'lit' ? next.text : '',
      list: s.name.startsWith('upstream_') && s.name !== 'upstream_cache_status',
      optional: s.at > firstOptional,
    };
  });
  return { steps, vars: raw.flatMap((s) => (s.kind === 'var' ? [s.name] : [])) };
}
