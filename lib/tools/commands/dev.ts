// `glujs dev <module>`: the inner loop of a translator author. A throwaway
// volume (brick + FUSE mount) with the module in its client graph, the
// translator's log lines printed as they come, and a reload whenever the
// module file changes. Ctrl-C tears everything down.
import fs from 'node:fs';
import path from 'node:path';
import { startVolume } from '../../testing';
import { UsageError } from '../args';

export async function runDev(moduleFile: string, options: Record<string, string> = {}): Promise<void> {
  const module = path.resolve(moduleFile);
  if (!fs.existsSync(module)) throw new Error(`${moduleFile}: no such file`);
  const name = path.basename(module).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]/g, '-') || 'dev';
  const v = await startVolume({ client: [{ name, type: 'features/glujs', options: { module, watch: 'on', ...options } }] });
  console.log(`glujs dev: ${module} runs in a volume mounted at\n  ${v.mount}\n(brick: ${v.brickDir}); it reloads when the file changes. Ctrl-C to stop.\n`);
  let pos = 0;
  const tag = `0-${name}:`;
  const tail = () => {
    let text = '';
    try {
      const fd = fs.openSync(v.clientLogs[0], 'r');
      const size = fs.fstatSync(fd).size;
      if (size > pos) {
        const b = Buffer.alloc(size - pos);
        fs.readSync(fd, b, 0, b.length, pos);
        pos = size;
        text = b.toString('utf8');
      }
      fs.closeSync(fd);
    } catch { return; }
    for (const line of text.split('\n')) {
      // "[date time] L [file:line:func] 0-name: message" -> "time L message"
      const m = /^\[\S+ (\S+) [^\]]*\] (\w) \[[^\]]*\] (.*)$/.exec(line);
      if (m && m[3].includes(tag)) console.log(`${m[1]} ${m[2]} ${m[3].slice(m[3].indexOf(tag) + tag.length + 1)}`);
      else if (line.startsWith('    at ')) console.log(line);
    }
  };
  const timer = setInterval(tail, 200);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(timer);
  tail();
  await v.stop();
  console.log('glujs dev: volume stopped');
}

export async function dev(args: string[]): Promise<number> {
  const [module, ...rest] = args;
  if (!module) throw new UsageError('glujs dev: name a module');
  const options: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== '--option' || !rest[i + 1]?.includes('=')) throw new UsageError(`glujs dev: unexpected ${rest[i]}`);
    const [k, ...v] = rest[++i].split('=');
    options[k] = v.join('=');
  }
  await runDev(module, options);
  return 0;
}
