// The runtime inside the daemon, started by native/node/embed.cc's bootstrap
// with the linked binding: hardens the process, loads the translator module,
// constructs the translator with its context and runs init(), tells the native
// side which fops and events have handlers, and publishes the counters that
// the statedump shows. The parts: sandbox.ts (the process), loader.ts (the
// module), options.ts (this.options), dispatch.ts (fops in flight), origin.ts
// (fops the translator originates on its children).
import path from 'node:path';
import v8 from 'node:v8';
import { FOPS, type FopName } from '../gen/fops';
import { EVENTS } from '../gen/shared';
import { Translator, setPendingContext, type FastPath, type Logger, type OptionSpec, type TranslatorContext } from '../translator';
import { byCode, Dispatcher } from './dispatch';
import { Originator } from './origin';
import { loadModule } from './loader';
import { describe, makeLogger } from './log';
import type { Native } from './native';
import { typedOptions } from './options';
import { harden } from './sandbox';
import { snapshot, type FopStats } from './stats';

export type { Native } from './native';
export { loadModule } from './loader';
export { typedOptions } from './options';

export function start(native: Native): void {
  const cfg = native.config();
  const log = makeLogger(native);
  harden(native, log);
  const d = new Dispatcher(native, log);

  const names = [] as [string[], string[]][];
  for (const n of Object.keys(FOPS) as FopName[]) names[FOPS[n].code] = [[...FOPS[n].args], [...FOPS[n].reply]];
  native.attach(d.callbacks, names);

  const fast: FastPath = {
    gen: () => native.fastGen(),
    negative: (p, n, g, ttl = 0) => native.fastNegative(p, n, g, ttl),
    complete: (p, n, g, ttl = 0) => native.fastComplete(p, [...n], g, ttl),
    invalidate: (p, n) => (p === undefined ? native.fastInvalidate() : native.fastInvalidate(p, n)),
    learn: (ttl, max = 0) => native.fastLearn(ttl, max),
    stats: () => native.fastStats(),
  };

  load(cfg, log, fast, d).then(
    ({ codes, events }) => {
      native.sources(localSources(cfg.module)); // before loaded(): the watcher's baseline
      native.loaded(null, codes, events);
      log.info(`handlers: ${codes.map((c) => byCode[c]).join(', ') || '(none)'}`);
      const timer = setInterval(() => publish(native, d.stats, d.ops.size, d.translator, log), 1000);
      timer.unref();
      publish(native, d.stats, d.ops.size, d.translator, log);
    },
    (e) => native.loaded(describe(e)),
  );
}

/** Loads the module, constructs its translator and runs adopt() and init();
 * resolves to the GF_FOP codes and GJ_EV_* events it has handlers for. */
async function load(cfg: ReturnType<Native['config']>, log: Logger, fast: FastPath, d: Dispatcher):
  Promise<{ codes: number[]; events: number[] }> {
  const exported = loadModule(cfg.module);
  const Cls = (exported && (exported.default ?? exported)) as typeof Translator & { options?: Record<string, OptionSpec> };
  if (typeof Cls !== 'function' || !(Cls.prototype instanceof Translator))
    throw new TypeError(`${cfg.module}: the default export must be a class extending Translator from 'glujs'`);
  const options = typedOptions(cfg.options, Cls.options, cfg.module);
  const upcallBricks = cfg.options.find(([k]) => k === 'upcall-bricks')?.[1];
  if (Cls.requires?.upcall && upcallBricks === 'off') {
    log.warn(`${path.basename(cfg.module)} relies on upcall, but the bricks of this volume send no cache invalidations ` +
      '(features.cache-invalidation off): changes made by other clients are seen only when its own entries expire. ' +
      'Turn it on: gluster volume set VOLUME features.cache-invalidation on');
  }
  const ctx: TranslatorContext = { name: cfg.name, options, log, fast, children: new Originator(d).children };
  setPendingContext(ctx);
  try {
    d.translator = new Cls() as Translator & Record<string, any>;
  } finally {
    setPendingContext(undefined);
  }
  const translator = d.translator;
  if (cfg.handoff && typeof translator.adopt === 'function') await translator.adopt(v8.deserialize(cfg.handoff));
  await translator.init?.();
  const codes: number[] = [];
  for (const name of Object.keys(FOPS) as FopName[]) {
    if (typeof translator[name] !== 'function') continue;
    if (!FOPS[name].js) throw new TypeError(`${name} cannot have a JS handler (it carries values glujs passes through only)`);
    codes.push(FOPS[name].code);
  }
  const events = EVENTS.map((e, i) => [e, i] as const)
    .filter(([e, i]) => typeof translator[i <= 2 ? 'notify' : e] === 'function').map(([, i]) => i);
  return { codes, events };
}

/** The files the module loaded: its own and those it imports, not packages (node_modules, glujs's own dist/). */
function localSources(module: string): string[] {
  const own = path.resolve(__dirname, '..', '..') + path.sep; // dist/
  const files = Object.keys(require.cache).filter((f) => path.isAbsolute(f) && !f.startsWith(own) && !f.includes(`${path.sep}node_modules${path.sep}`));
  return [...new Set([path.resolve(module), ...files])];
}

/** The counters the statedump shows, with the dump() of the translator. */
function publish(native: Native, stats: Map<string, FopStats>, inflight: number, t: Translator, log: Logger): void {
  let extra: Record<string, unknown> = {};
  try {
    extra = t.dump?.() ?? {};
  } catch (e) {
    extra = { dump_error: String((e as Error)?.message ?? e) };
  }
  try {
    native.publish(snapshot(stats, inflight, extra));
  } catch (e) {
    log.warn(`statedump snapshot failed: ${describe(e)}`);
  }
}
