#!/usr/bin/env node
// glujs command line: which command runs, and the usage. The commands are in commands/.
//   glujs setup / new             set up a machine from the installed package / scaffold a project
//   glujs install / uninstall     put the xlator where GlusterFS looks for `type features/glujs`
//                                 (and `user/glujs`, for glusterd's brick-graph insertion)
//   glujs check / dev             check a module without GlusterFS / run it in a throwaway volume
//   glujs volfile ...             splice a features/glujs xlator into a volfile
//   glujs filter install|uninstall|list
//                                 keep glujs in the FUSE client graphs glusterd generates
//   glujs filter-run VOLFILE      what the installed filter runs (glusterd calls it)
import { UsageError } from './args';
import { VolfileError } from './volfile';
import { install, uninstall } from './commands/install';
import { volfile } from './commands/volfile';
import { filterInstall, filterList, filterRun, filterUninstall } from './commands/filter';

const USAGE = `usage:
  glujs setup                    (as root) GlusterFS, libnode, the native build and the install, from this package
  glujs new NAME                 scaffold a translator project (here if ./package.json exists, else in ./NAME)
  glujs install [--quiet] | glujs uninstall
  glujs check MODULE...          load and type-check translator modules without GlusterFS
  glujs dev MODULE [--option key=value ...]
                                 a throwaway volume with MODULE, its log, reload on change
  glujs volfile [FILE|-] [--getspec VOLNAME [--server HOST] [--glusterd-sock FILE]]
                --module PATH [--name NAME] [--option key=value ...]
                [--below VOL | --above VOL | --top] [-o OUT]
  glujs filter install --volume V --module PATH [--option key=value ...] [--name NAME]
                [--below VOL | --above VOL | --top] [--no-regenerate] [--type XLATOR-TYPE]
                [--enable-upcall]   (a module with static requires = { upcall: true }: set features.cache-invalidation on)
                [--glusterd-dir DIR] [--glusterd-sock FILE]
  glujs filter uninstall [--volume V] [--no-regenerate] [--glusterd-dir DIR] [--glusterd-sock FILE]
  glujs filter list`;

export function main(argv: string[]): number | Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    // loaded only when used (dev brings in the test kit)
    case 'check': return (require('./commands/check') as typeof import('./commands/check')).check(rest);
    case 'dev': return (require('./commands/dev') as typeof import('./commands/dev')).dev(rest);
    case 'install': return install(rest);
    case 'setup': return (require('./commands/setup') as typeof import('./commands/setup')).setup(rest);
    case 'new': return (require('./commands/new') as typeof import('./commands/new')).newProject(rest);
    case 'uninstall': return uninstall();
    case 'volfile': return volfile(rest, USAGE);
    case 'filter-run': return filterRun(rest);
    case 'filter': {
      const [sub, ...args] = rest;
      if (sub === 'install') return filterInstall(args);
      if (sub === 'uninstall') return filterUninstall(args);
      if (sub === 'list') return filterList(args);
      throw new UsageError(`glujs filter: install, uninstall or list expected${sub ? `, got ${sub}` : ''}`);
    }
    case 'help': case '--help': case '-h': console.log(USAGE); return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

if (require.main === module) {
  const fail = (e: unknown) => {
    const msg = (e as Error).message;
    console.error(msg.startsWith('glujs') ? msg : `glujs: ${msg}`);
    process.exitCode = e instanceof UsageError || e instanceof VolfileError ? 2 : 1;
  };
  try {
    Promise.resolve(main(process.argv.slice(2))).then((code) => { process.exitCode = code; }, fail);
  } catch (e) {
    fail(e);
  }
}
