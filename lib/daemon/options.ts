// The volfile's options for the module: glujs's own are left out, the rest
// checked and typed against the class's `static options`.
import path from 'node:path';
import { OWN_OPTIONS as OWN } from '../gen/shared';
import type { OptionSpec, OptionValue } from '../translator';

/** Options that are glujs's own (tools/shared.mjs), not the module's. */
const OWN_OPTIONS: ReadonlySet<string> = new Set(OWN);

/** The volfile's options, checked and typed against the class's `static options`. */
export function typedOptions(pairs: [string, string][], spec: Record<string, OptionSpec> | undefined, module: string): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  const given = pairs.filter(([k]) => !OWN_OPTIONS.has(k));
  if (!spec) {
    for (const [k, v] of given) out[k] = v;
    return out;
  }
  for (const [k, v] of given) {
    const s = spec[k];
    if (!s) {
      const known = [...Object.keys(spec), ...OWN_OPTIONS].join(', ');
      throw new TypeError(`unknown option '${k}' for ${path.basename(module)} (known: ${known})`);
    }
    out[k] = parseOption(k, v, s);
  }
  for (const [k, s] of Object.entries(spec))
    if (!(k in out) && s.default !== undefined) out[k] = typeof s.default === 'string' ? parseOption(k, s.default, s) : s.default;
  return out;
}

function parseOption(key: string, v: string, s: OptionSpec): OptionValue {
  const bad = () => new TypeError(`option '${key}': '${v}' is not a valid ${s.type}`);
  switch (s.type) {
    case 'string': return v;
    case 'number': { const n = Number(v); if (v.trim() === '' || !Number.isFinite(n)) throw bad(); return n; }
    case 'boolean': {
      const t = v.toLowerCase();
      if (['on', 'yes', 'true', 'enable', '1'].includes(t)) return true;
      if (['off', 'no', 'false', 'disable', '0'].includes(t)) return false;
      throw bad();
    }
    case 'time': { // seconds; accepts 100ms, 30s, 5m, 1h
      const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(v);
      if (!m) throw bad();
      const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 'ms'];
      return Number(m[1]) * unit;
    }
    case 'size': { // bytes; accepts 512, 64KB, 16MB, 1GB
      const m = /^\s*(\d+)\s*([KMGT]?)B?\s*$/i.exec(v);
      if (!m) throw bad();
      return Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
    }
  }
}
